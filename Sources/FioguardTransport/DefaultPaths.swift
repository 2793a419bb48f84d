#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded defaults used when `--socket` or `--database` is not given. The example client
/// uses the same socket default, so `fioguard serve` and `fioguard-client` meet without flags.
///
/// - socket: `$FIOGUARD_SOCKET`, else `/run/fioguard/fioguard.sock` for root, else
///   `$XDG_RUNTIME_DIR/fioguard/fioguard.sock`, else `/tmp/fioguard-UID/fioguard.sock`.
/// - database: `$FIOGUARD_DATABASE`, else `/var/lib/fioguard/fioguard.sqlite` for root, else
///   `$XDG_DATA_HOME/fioguard/fioguard.sqlite`, else `$HOME/.local/share/fioguard/fioguard.sqlite`.
public enum DefaultPaths {
    public static var socket: String {
        if let s = env("FIOGUARD_SOCKET") { return s }
        if getuid() == 0 { return "/run/fioguard/fioguard.sock" }
        if let xdg = env("XDG_RUNTIME_DIR") { return "\(xdg)/fioguard/fioguard.sock" }
        return "/tmp/fioguard-\(getuid())/fioguard.sock"
    }

    public static var database: String {
        if let s = env("FIOGUARD_DATABASE") { return s }
        if getuid() == 0 { return "/var/lib/fioguard/fioguard.sqlite" }
        if let xdg = env("XDG_DATA_HOME") { return "\(xdg)/fioguard/fioguard.sqlite" }
        return "\(env("HOME") ?? "/tmp")/.local/share/fioguard/fioguard.sqlite"
    }

    private static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        let s = String(cString: p)
        return s.isEmpty ? nil : s
    }
}

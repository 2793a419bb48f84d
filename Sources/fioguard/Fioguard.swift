import ArgumentParser

/// `fioguard`: the daemon and its offline tools.
@main
struct Fioguard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fioguard",
        abstract: "Privacy-by-design sidecar for FACEIO face login.",
        subcommands: [Serve.self, PolicyCommand.self])
}

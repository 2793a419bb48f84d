import FioguardJSON
import FioguardTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The socket file: parent directories, live-server detection, stale files, foreign files, mode,
/// removal on exit.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SocketHygieneTests {
    @Test func createsMissingParentDirectories() async throws {
        let server = try await LiveServer.started(arguments: [], socketName: "run/deep/er/fg.sock")
        let parent = (server.socketPath as NSString).deletingLastPathComponent
        let mode = try #require(Spine.mode(parent))
        #expect(mode & S_IFMT == S_IFDIR)
        #expect(mode & 0o007 == 0, "parent directory is open to others: \(String(mode & 0o777, radix: 8))")
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func defaultSocketModeIs0660() async throws {
        let server = try await LiveServer.started()
        let mode = try #require(await Self.settledMode(server.socketPath, expecting: 0o660))
        #expect(mode & S_IFMT == S_IFSOCK)
        #expect(mode & 0o7777 == 0o660, "mode \(String(mode & 0o7777, radix: 8))")
        await Spine.stop(server)
    }

    @Test(arguments: ["0600", "0666", "0640"])
    func socketModeComesFromTheFlag(_ flag: String) async throws {
        let server = try await LiveServer.started(arguments: ["--socket-mode", flag])
        let mode = try #require(await Self.settledMode(server.socketPath, expecting: UInt32(flag, radix: 8)!))
        #expect(mode & 0o7777 == UInt32(flag, radix: 8)!, "mode \(String(mode & 0o7777, radix: 8)) for \(flag)")
        await Spine.stop(server)
    }

    @Test func anInvalidSocketModeIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for bad in ["999", "rw-rw----", "01777"] {
            let (status, output) = try await LiveServer.run(
                ["serve", "--socket", dir.file("fg.sock"), "--database", dir.file("db.sqlite"), "--socket-mode", bad], timeout: .seconds(20))
            #expect(status != 0, "--socket-mode \(bad) accepted:\n\(output)")
            #expect(!Spine.exists(dir.file("fg.sock")))
        }
    }

    @Test func refusesToStartWhenALiveServerOwnsTheSocket() async throws {
        let first = try await LiveServer.started()
        let inode = try #require(Self.inode(first.socketPath))
        let (status, output) = try await LiveServer.run(
            ["serve", "--socket", first.socketPath, "--database", first.directory.file("second.sqlite")], timeout: .seconds(20))
        #expect(status != 0, "a second server started on a live socket:\n\(output)")
        #expect(output.contains(first.socketPath) || output.lowercased().contains("already"), "\(output)")
        // The first one keeps serving on the very same socket file.
        #expect(Self.inode(first.socketPath) == inode, "the socket file was replaced")
        let c = try await first.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(first)
    }

    /// Two daemons on one database would both sweep and both drain the deletion outbox; the
    /// second is refused before it opens a connection or binds its socket, naming the first.
    @Test func refusesToStartOnADatabaseALiveServerUses() async throws {
        let first = try await LiveServer.started()
        let pid = try #require(first.pid)
        let other = first.directory.file("other.sock")
        let (status, output) = try await LiveServer.run(
            ["serve", "--socket", other, "--database", first.databasePath], timeout: .seconds(20))
        #expect(status != 0, "a second server started on a database in use:\n\(output)")
        #expect(output.contains("in use by another fioguard process (pid \(pid))"), "\(output)")
        #expect(!Spine.exists(other), "the refused server left a socket")
        let c = try await first.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(first)
    }

    @Test func replacesAStaleSocketFile() async throws {
        let server = try LiveServer(policy: nil, arguments: [], environment: [:], socketName: "fg.sock")
        try RawUnixSocket.makeStaleSocketFile(at: server.socketPath)
        #expect(Spine.exists(server.socketPath))
        #expect(!SocketPathProbe.isLive(server.socketPath))
        try await server.start()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func aSocketLeftByACrashIsReplacedOnTheNextStart() async throws {
        let server = try await LiveServer.started()
        await server.crash()
        #expect(Spine.exists(server.socketPath), "a killed server cannot remove its socket")
        try await server.start()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func refusesARegularFileAtTheSocketPath() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("fg.sock", "precious data\n")
        let (status, output) = try await LiveServer.run(
            ["serve", "--socket", dir.file("fg.sock"), "--database", dir.file("db.sqlite")], timeout: .seconds(20))
        #expect(status != 0, "started over a regular file:\n\(output)")
        #expect(dir.read("fg.sock") == "precious data\n", "the file at the socket path was touched")
        #expect(output.contains("not a socket"), "\(output)")
    }

    @Test func refusesADirectoryAtTheSocketPath() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        mkdir(dir.file("fg.sock"), 0o755)
        let (status, output) = try await LiveServer.run(
            ["serve", "--socket", dir.file("fg.sock"), "--database", dir.file("db.sqlite")], timeout: .seconds(20))
        #expect(status != 0, "started over a directory:\n\(output)")
        let mode = try #require(Spine.mode(dir.file("fg.sock")))
        #expect(mode & S_IFMT == S_IFDIR)
    }

    @Test func refusesASymlinkAtTheSocketPath() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("target", "keep me\n")
        symlink(dir.file("target"), dir.file("fg.sock"))
        let (status, output) = try await LiveServer.run(
            ["serve", "--socket", dir.file("fg.sock"), "--database", dir.file("db.sqlite")], timeout: .seconds(20))
        #expect(status != 0, "started over a symlink:\n\(output)")
        #expect(dir.read("target") == "keep me\n")
        let mode = try #require(Spine.mode(dir.file("fg.sock")))
        #expect(mode & S_IFMT == S_IFLNK)
    }

    @Test func refusesASocketPathThatIsTooLong() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let long = dir.file(String(repeating: "s", count: 120) + ".sock")
        let (status, output) = try await LiveServer.run(["serve", "--socket", long, "--database", dir.file("db.sqlite")], timeout: .seconds(20))
        #expect(status != 0, "\(output)")
    }

    @Test func removesTheSocketOnSIGTERM() async throws {
        let server = try await LiveServer.started()
        #expect(Spine.exists(server.socketPath))
        await Spine.stop(server)
    }

    @Test func removesTheSocketOnSIGINT() async throws {
        let server = try await LiveServer.started()
        server.signal(SIGINT)
        let status = await server.exitStatus(within: .seconds(20))
        #expect(status == 0, "\(server.log.suffix(2000))")
        #expect(!Spine.exists(server.socketPath))
        await server.cleanUp()
    }

    @Test func doesNotRemoveASocketFileThatIsNotItsOwn() async throws {
        let server = try await LiveServer.started()
        // Someone else's socket now sits at the path (the server's own was unlinked under it, as
        // when an operator removes it and starts another server there). The file system may well
        // give the new file the inode number the old one had.
        let own = Self.inode(server.socketPath)
        unlink(server.socketPath)
        try RawUnixSocket.makeStaleSocketFile(at: server.socketPath)
        let foreign = try #require(Self.inode(server.socketPath))
        let status = await server.terminate(timeout: .seconds(20))
        #expect(status == 0)
        #expect(
            Self.inode(server.socketPath) == foreign,
            "the server removed a socket file it did not create (inode then \(own.map(String.init) ?? "-"), now \(foreign))")
        await server.cleanUp()
    }

    /// The socket accepts connections a moment before its mode is set (bind, then chmod): the
    /// mode once it equals `expecting`, or whatever it is after a few seconds.
    static func settledMode(_ path: String, expecting: UInt32) async -> UInt32? {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let m = Spine.mode(path), m & 0o7777 == expecting { return m }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return Spine.mode(path)
    }

    static func inode(_ path: String) -> UInt64? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }
}

/// Whether something accepts connections at a path (as `fioguard` itself checks).
enum SocketPathProbe {
    static func isLive(_ path: String) -> Bool {
        (try? RawUnixSocket(connectingTo: path)) != nil
    }
}

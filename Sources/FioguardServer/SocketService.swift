import FioguardTransport
import ServiceLifecycle

/// The socket server as a lifecycle `Service`: graceful shutdown stops accepting and drains.
struct SocketService: Service {
    let server: UnixSocketServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.beginShutdown()
        }
    }
}

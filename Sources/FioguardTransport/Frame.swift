public import NIOCore

/// What the transport hands upwards: one line without its terminator, or word that a line was
/// longer than the frame limit (its bytes were discarded, not buffered).
public enum Frame: Sendable, Equatable {
    case line(ByteBuffer)
    case oversized(limit: Int)
}

import CJansson

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where jansson's memory comes from.
///
/// jansson holds a request's JSON only briefly: a parse builds a tree, converts it and frees it;
/// an encoding builds a tree, dumps it and frees it. Each runs on one thread without suspending,
/// and makes dozens of small allocations (about 80 for a `facialId.show` answer), which cost as
/// much as a sixth of the call in `malloc` and `free`. Inside `JanssonArena.scope` those come
/// from the thread's bump arena: taking a block is an addition, freeing one a subtraction, and
/// the arena is reused whole once the scope ends with every block freed.
///
/// Every block carries a 16-byte header saying where it came from, so each is freed the right
/// way: `malloc`'s blocks (outside a scope, too large for the arena, or past a full chunk) with
/// `free`, an arena's
/// by counting it off its chunk. A chunk is reused only once all its blocks are freed: if one
/// outlived its scope, the arena takes a new chunk and the old one is freed with its last block.
/// jansson is only used in this module (and its tests), each tree is freed within the scope that
/// made it, and a scope never leaves its thread (it cannot suspend), so a chunk's count is only
/// touched by its own thread. Freeing clears a block's check word, so a second free of it stops
/// the process instead of counting the block off twice.
enum JanssonArena {
    /// Runs `body` with jansson's small allocations on this thread taken from the arena.
    /// Scopes nest; the arena is reset when the outermost one ends.
    @inline(__always)
    static func scope<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        _ = installed
        let arena = Arena.current
        arena.pointee.depth += 1
        defer { arena.pointee.endScope() }
        return try body()
    }

    /// jansson's allocator is process-wide and must be set before its first allocation: every
    /// entry into jansson goes through `scope`, which sets it first.
    private static let installed: Void = {
        arenaKey = Arena.makeKey()
        json_set_alloc_funcs(allocate, release)
    }()

    /// Frees what jansson returned for the caller to free (`json_dumps`'s text).
    static func freeReturned(_ pointer: UnsafeMutableRawPointer?) { release(pointer) }

    /// Bytes before every block: the chunk it came from (zero for `malloc`'s) and a check word
    /// (cleared when the block is freed); 16 bytes keep blocks 16-byte aligned.
    static let headerSize = 16
    private static let check: UInt64 = 0x6a61_6e73_736f_6e21  // "jansson!"

    private static let allocate: json_malloc_t = { size in
        // jansson's size_t arrives as Int: refuse what would not fit with its header.
        guard size >= 0, size <= Int.max - headerSize else { return nil }
        if let arena = Arena.existing, let block = arena.pointee.take(size) { return block }
        guard let base = malloc(size + headerSize) else { return nil }
        base.storeBytes(of: 0, as: UInt.self)
        base.storeBytes(of: check, toByteOffset: 8, as: UInt64.self)
        return base + headerSize
    }

    private static let release: json_free_t = { pointer in
        guard let pointer else { return }
        let base = pointer - headerSize
        precondition(base.load(fromByteOffset: 8, as: UInt64.self) == check, "jansson freed a block it was not given, or freed it twice")
        base.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
        guard let chunk = UnsafeMutableRawPointer(bitPattern: base.load(as: UInt.self)) else {
            free(base)
            return
        }
        Chunk.blockFreed(chunk)
    }

    /// A chunk begins with its count of blocks not yet freed and whether its arena has left it.
    enum Chunk {
        static let size = 64 << 10
        static let headerSize = 16

        static func make() -> UnsafeMutableRawPointer {
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            chunk.storeBytes(of: 0, as: Int.self)
            chunk.storeBytes(of: 0, toByteOffset: 8, as: Int.self)
            return chunk
        }

        static func live(_ chunk: UnsafeMutableRawPointer) -> Int { chunk.load(as: Int.self) }

        static func blockFreed(_ chunk: UnsafeMutableRawPointer) {
            let live = chunk.load(as: Int.self) - 1
            chunk.storeBytes(of: live, as: Int.self)
            if live == 0, chunk.load(fromByteOffset: 8, as: Int.self) != 0 { chunk.deallocate() }
        }

        /// The arena takes a new chunk; this one is freed with its last block.
        static func abandon(_ chunk: UnsafeMutableRawPointer) {
            if live(chunk) == 0 {
                chunk.deallocate()
            } else {
                chunk.storeBytes(of: 1, toByteOffset: 8, as: Int.self)
            }
        }
    }

    /// One thread's arena: a chunk taken from the front.
    struct Arena {
        /// Larger blocks go to `malloc`, so one large value does not use up the chunk.
        static let largestBlock = 8 << 10

        var chunk = Chunk.make()
        var used = Chunk.headerSize
        var depth = 0

        @inline(__always)
        mutating func take(_ size: Int) -> UnsafeMutableRawPointer? {
            guard depth > 0, size <= Self.largestBlock else { return nil }
            let needed = (JanssonArena.headerSize + size + 15) & ~15
            guard used + needed <= Chunk.size else { return nil }
            let base = chunk + used
            used += needed
            chunk.storeBytes(of: Chunk.live(chunk) + 1, as: Int.self)
            base.storeBytes(of: UInt(bitPattern: chunk), as: UInt.self)
            base.storeBytes(of: JanssonArena.check, toByteOffset: 8, as: UInt64.self)
            return base + JanssonArena.headerSize
        }

        mutating func endScope() {
            depth -= 1
            guard depth == 0 else { return }
            if Chunk.live(chunk) != 0 {
                // A block outlived its scope: leave the chunk to it rather than hand its memory out again.
                Chunk.abandon(chunk)
                chunk = Chunk.make()
            }
            used = Chunk.headerSize
        }

        /// This thread's arena, made on first use and freed when the thread exits.
        static var current: UnsafeMutablePointer<Arena> {
            if let existing { return existing }
            let made = UnsafeMutablePointer<Arena>.allocate(capacity: 1)
            made.initialize(to: Arena())
            pthread_setspecific(arenaKey, made)
            return made
        }

        static var existing: UnsafeMutablePointer<Arena>? {
            pthread_getspecific(arenaKey)?.assumingMemoryBound(to: Arena.self)
        }

        static func makeKey() -> pthread_key_t {
            var key = pthread_key_t()
            let rc = pthread_key_create(&key) { raw in
                guard let arena = raw?.assumingMemoryBound(to: Arena.self) else { return }
                Chunk.abandon(arena.pointee.chunk)
                arena.deinitialize(count: 1)
                arena.deallocate()
            }
            precondition(rc == 0, "pthread_key_create failed: \(rc)")
            return key
        }
    }
}

/// The thread-specific key of each thread's arena. A plain global, read on every allocation
/// without a lazy-initialization check: it is set once, by `JanssonArena.installed`, before
/// jansson can call the allocator.
nonisolated(unsafe) private var arenaKey: pthread_key_t = 0

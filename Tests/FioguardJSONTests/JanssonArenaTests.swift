import CJansson
@testable import FioguardJSON
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `JanssonArena`: jansson's allocations inside a parse or an encoding come from the thread's
/// arena, which is reused once all its blocks are freed and never while one is still held.
@Suite struct JanssonArenaTests {
    private static let request = Array(#"{"jsonrpc":"2.0","method":"facialId.show","params":{"subject":"a"},"id":7}"#.utf8)

    @Test func aParseInsideAScopeTakesItsBlocksFromTheArenaAndGivesThemAllBack() throws {
        try JanssonArena.scope { () throws in
            let arena = try #require(JanssonArena.Arena.existing)
            let chunk = arena.pointee.chunk
            let before = arena.pointee.used
            _ = try JSON.parse(Self.request)
            // The parse's own scope was nested in this one: the arena is not reset yet, and every
            // block jansson took was freed again.
            #expect(arena.pointee.used > before)
            #expect(JanssonArena.Chunk.live(chunk) == 0)
            #expect(arena.pointee.depth == 1)
        }
        let arena = try #require(JanssonArena.Arena.existing)
        #expect(arena.pointee.depth == 0)
        #expect(arena.pointee.used == JanssonArena.Chunk.headerSize)
    }

    @Test func theSameChunkServesOneCallAfterAnother() throws {
        _ = try JSON.parse(Self.request)
        let arena = try #require(JanssonArena.Arena.existing)
        let chunk = arena.pointee.chunk
        for i in 0..<1000 {
            let value = try JSON.parse(Self.request)
            #expect(JSON.array([value, .int(Int64(i))]).encoded().count > 0)
        }
        #expect(arena.pointee.chunk == chunk)
        #expect(arena.pointee.used == JanssonArena.Chunk.headerSize)
    }

    @Test func aBlockThatOutlivesItsScopeKeepsItsChunkAndTheArenaTakesANewOne() throws {
        var first: UnsafeMutableRawPointer?
        let held: UnsafeMutablePointer<json_t>? = JanssonArena.scope {
            first = JanssonArena.Arena.existing?.pointee.chunk
            return json_string("kept past the scope")
        }
        let value = try #require(held)
        let arena = try #require(JanssonArena.Arena.existing)
        #expect(first != nil)
        #expect(arena.pointee.chunk != first)
        #expect(JanssonArena.Chunk.live(try #require(first)) > 0)  // the string and its text
        // Not reused: the string is still readable after other scopes ran on this thread.
        _ = try JSON.parse(Self.request)
        #expect(String(cString: json_string_value(value)) == "kept past the scope")
        // Freed outside any scope: counted off its own (abandoned) chunk, which is freed with it
        // (the sanitizer run, `make test-asan`, would report a use after that).
        json_decref(value)
    }

    /// The chunk a block of jansson's came from, read from its header (nil: `malloc`'s).
    private static func origin(_ block: UnsafeRawPointer) -> UnsafeRawPointer? {
        UnsafeRawPointer(bitPattern: (block - JanssonArena.headerSize).load(as: UInt.self))
    }

    @Test func blocksOutsideAScopeAndLargeOnesComeFromMalloc() throws {
        _ = try JSON.parse(Self.request)
        let arena = try #require(JanssonArena.Arena.existing)
        // Outside a scope: the arena is untouched.
        let outside = try #require(json_string("outside"))
        #expect(arena.pointee.used == JanssonArena.Chunk.headerSize)
        #expect(Self.origin(json_string_value(outside)) == nil)
        json_decref(outside)
        // Inside a scope: a short text from the arena's chunk, one over 8 KiB from malloc.
        try JanssonArena.scope { () throws in
            let chunk = try #require(JanssonArena.Arena.existing).pointee.chunk
            let short = try #require(json_string("short"))
            let long = try #require(json_string(String(repeating: "x", count: 9000)))
            #expect(Self.origin(json_string_value(short)) == UnsafeRawPointer(chunk))
            #expect(Self.origin(json_string_value(long)) == nil)
            json_decref(short)
            json_decref(long)
        }
        // Larger than an arena block, and in total larger than a chunk: still read and written whole.
        let large = String(repeating: "\u{e9}x", count: 40_000)
        let value: JSON = ["a": .string(large), "b": .array(Array(repeating: .string(large), count: 3))]
        let text = value.encoded()
        #expect(text.count > JanssonArena.Chunk.size * 3)
        #expect(try JSON.parse(text) == value)
        #expect(arena.pointee.used == JanssonArena.Chunk.headerSize)
    }

    @Test func manyThreadsParseAndEncodeAtOnceEachInItsOwnArena() async throws {
        let results = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<500 {
                        let value: JSON = ["thread": .int(Int64(t)), "i": .int(Int64(i)), "s": .string(String(repeating: "z", count: i))]
                        guard let back = try? JSON.parse(value.encoded()), back == value else { return false }
                    }
                    return true
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

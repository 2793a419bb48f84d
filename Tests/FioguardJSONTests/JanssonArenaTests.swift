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
        // Freed outside any scope: counted off its own (abandoned) chunk, which goes with it.
        json_decref(value)
        _ = try JSON.parse(Self.request)
        #expect(JanssonArena.Chunk.live(arena.pointee.chunk) == 0)
    }

    @Test func blocksOutsideAScopeAndLargeOnesComeFromMalloc() throws {
        _ = try JSON.parse(Self.request)
        let arena = try #require(JanssonArena.Arena.existing)
        // Outside a scope: the arena is untouched.
        let outside = try #require(json_string("outside"))
        #expect(arena.pointee.used == JanssonArena.Chunk.headerSize)
        json_decref(outside)
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

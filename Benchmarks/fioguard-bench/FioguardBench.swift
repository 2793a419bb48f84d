import ArgumentParser
import FioguardJSON
import FioguardTransport
import Foundation
import Synchronization

/// `fioguard-bench` (run by `make bench`): measures fioguard end to end over its real socket.
@main
struct FioguardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fioguard-bench",
        abstract: "Load generator: throughput, latency percentiles and peak RSS of fioguard over its Unix socket.")

    @Option(help: "Workloads to run: ping, show, record, flow, sweep (repeatable; default all).")
    var workload: [String] = []

    @Option(help: "Concurrent connections.")
    var connections: Int = 64

    @Option(help: "Requests each connection keeps in flight.")
    var pipeline: Int = 4

    @Option(help: ArgumentHelp(
        "Offered load in calls per second across all connections: an open loop.",
        discussion: """
            Each connection sends its share on a fixed schedule, with up to --pipeline requests \
            in flight, and latency counts from the scheduled time, so percentiles are those at \
            this load, a server that falls behind included. Without it the loop is closed (each \
            answer triggers the next request): throughput is the server's capacity and the \
            latency is that of a saturated server.
            """))
    var rate: Double?

    @Option(help: "Seconds each load workload runs (after a 1 s warm-up).")
    var duration: Double = 10

    @Option(help: "Enrolled subjects for the show workload.")
    var subjects: Int = 100_000

    @Option(name: .customLong("sweep-ids"), help: "Facial IDs stored for the sweep workload.")
    var sweepIDs: Int = 1_000_000

    @Option(name: .customLong("sweep-expired"), help: "How many of them are past retention.")
    var sweepExpired: Int = 100_000

    @Option(help: "Target a running server on this socket instead of starting one (ping, record, flow only).")
    var socket: String?

    func run() async throws {
        let chosen = workload.isEmpty ? ["ping", "show", "record", "flow", "sweep"] : workload
        if let rate, !(rate.isFinite && rate >= 1) { throw ValidationError("--rate needs at least 1 call per second") }
        let loop = rate.map { String(format: ", open loop at %.0f calls/s", $0) } ?? ""
        print("fioguard-bench: \(connections) connections × \(pipeline) in flight\(loop), \(duration) s per workload, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var baseline: LoadDriver.Result?
        for name in chosen {
            switch name {
            case "ping":
                let (r, rss) = try await load(name) { _, _ in Workloads.Ping() }
                baseline = r
                report(name, r, rss: rss, baseline: nil)
            case "show":
                guard socket == nil else { print("show: needs a seeded server; skipped with --socket"); continue }
                let population = subjects
                let (r, rss) = try await load(name, seed: { path in
                    try await Seeder.seed(path: path, subjects: population, facialIDs: population, expired: 0, expiresIn: 0, now: Self.now())
                }) { c, s in Workloads.Show(population: population, seed: UInt64(c * 1000 + s + 1)) }
                report(name, r, rss: rss, baseline: baseline)
            case "record":
                let tag = Self.now()
                let (r, rss) = try await load(name) { c, s in Workloads.Record(prefix: "rec\(tag)-\(c)-\(s)") }
                report(name, r, rss: rss, baseline: baseline)
            case "flow":
                let tag = Self.now()
                let (r, rss) = try await load(name) { c, s in Workloads.Flow(prefix: "flow\(tag)-\(c)-\(s)") }
                report(name, r, rss: rss, baseline: baseline)
                print(String(format: "  flow: %.0f complete user flows/s (5 calls each)", r.throughput / 5))
            case "sweep":
                guard socket == nil else { print("sweep: needs a seeded server; skipped with --socket"); continue }
                try await sweep()
            default:
                throw ValidationError("unknown workload \(name)")
            }
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// User and system CPU seconds of this process's threads so far (not of the server it
    /// started, a child not yet waited for).
    static func ownCPUSeconds() -> Double? {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Starts a fresh server (optionally seeded), warms up 1 s, measures `duration` s.
    private func load(
        _ name: String, seed: ((String) async throws -> Void)? = nil,
        session: @escaping @Sendable (Int, Int) -> any Session
    ) async throws -> (LoadDriver.Result, Int?) {
        var server: BenchServer?
        let path: String
        if let socket {
            path = socket
        } else {
            let started = try await BenchServer(prepare: { try await seed?($0) })
            server = started
            path = started.socketPath
        }
        _ = try await LoadDriver(
            socketPath: path, connections: connections, pipeline: pipeline, seconds: 1, rate: rate, makeSession: session
        ).run()
        let cpuBefore = server.flatMap(\.cpuSeconds)
        let threadsBefore = server?.cpuSecondsByRole ?? [:]
        let diskBefore = server.flatMap(\.diskBytesWritten)
        let deviceBefore = server.flatMap(\.deviceBytesWritten)
        let clientBefore = Self.ownCPUSeconds()
        var result = try await LoadDriver(
            socketPath: path, connections: connections, pipeline: pipeline, seconds: duration, rate: rate,
            makeSession: session
        ).run()
        if let clientBefore, let clientAfter = Self.ownCPUSeconds(), result.requests > 0 {
            result.clientCPUPerCall = (clientAfter - clientBefore) / Double(result.requests)
        }
        if let cpuBefore, let cpuAfter = server.flatMap(\.cpuSeconds), result.requests > 0 {
            result.serverCPUPerCall = (cpuAfter - cpuBefore) / Double(result.requests)
        }
        if let threadsAfter = server?.cpuSecondsByRole, result.requests > 0 {
            let calls = Double(result.requests)
            for role in ["writer", "pool", "event loop", "readers", "checkpointer"] {
                guard let after = threadsAfter[role] else { continue }
                let before = threadsBefore[role] ?? (0, 0)
                let user = after.user - before.user, system = after.system - before.system
                guard user + system > 0 else { continue }
                result.serverThreads.append(
                    (role, (user + system) / calls, system / calls, (user + system) / result.elapsedSeconds))
            }
        }
        if let diskBefore, let diskAfter = server.flatMap(\.diskBytesWritten), result.requests > 0 {
            result.serverDiskBytesPerCall = Double(diskAfter - diskBefore) / Double(result.requests)
        }
        if let deviceBefore, let deviceAfter = server.flatMap(\.deviceBytesWritten), result.requests > 0 {
            result.deviceBytesPerCall = Double(deviceAfter - deviceBefore) / Double(result.requests)
        }
        let rss = server?.peakRSS
        await server?.stop()
        return (result, rss)
    }

    private func report(_ name: String, _ r: LoadDriver.Result, rss: Int?, baseline: LoadDriver.Result?) {
        let h = r.histogram
        var line = String(
            format: "%-7@ %9.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  max %8.3f ms  errors %llu",
            name as NSString, r.throughput, Double(h.valueAtPercentile(50)) / 1000, Double(h.valueAtPercentile(99)) / 1000,
            Double(h.valueAtPercentile(99.9)) / 1000, Double(h.max) / 1000, r.errors)
        // Open loop: calls scheduled before the end that never found a free slot. Any at all means
        // the server did not keep up with the rate, whatever the percentiles say.
        if rate != nil { line += "  unsent \(r.unsent)" }
        if let rss { line += String(format: "  peak RSS %.1f MB", Double(rss) / 1_048_576) }
        // Server CPU per call (all its threads): a change in cost shows even where throughput is
        // bound elsewhere (the writer's commit cycle).
        if let cpu = r.serverCPUPerCall { line += String(format: "  server CPU %.0f µs/call", cpu * 1e6) }
        // The load generator's own CPU per call: its share of the two cores.
        if let cpu = r.clientCPUPerCall { line += String(format: "  client CPU %.0f µs/call", cpu * 1e6) }
        // Disk bytes per call (pages dirtied for the WAL and checkpoints) depend on the load's
        // shape (how many writes share a commit group), not on the machine's speed: compare runs
        // at the same connections and pipeline.
        if let disk = r.serverDiskBytesPerCall, disk > 0 { line += String(format: "  disk %.1f KB/call", disk / 1024) }
        // What reached the database's block device (from every process, so on a quiet machine
        // only): `write_bytes` above counts pages as they are dirtied, likely a whole large folio
        // when a commit dirties part of it, and has read higher since round eight.
        if let device = r.deviceBytesPerCall, device > 0, r.serverDiskBytesPerCall ?? 0 > 0 {
            line += String(format: " (device %.1f)", device / 1024)
        }
        print(line)
        // Where the server's CPU went, per role of its threads (the writer is one thread: its
        // share of the time it was busy bounds the durable writes).
        if !r.serverThreads.isEmpty {
            print("  threads: " + r.serverThreads.map { t in
                String(format: "%@ %.1f µs/call (%.1f kernel, busy %.0f%%)", t.role as NSString, t.perCall * 1e6, t.systemPerCall * 1e6, t.busy * 100)
            }.joined(separator: ", "))
        }
        // In the open loop both throughputs are the rate: the ratio would say nothing.
        if rate == nil, let b = baseline, b.throughput > 0 {
            print(String(
                format: "  vs ping: %.2f× the p50 latency, %.2f of the throughput",
                Double(h.valueAtPercentile(50)) / Double(max(1, b.histogram.valueAtPercentile(50))), r.throughput / b.throughput))
        }
    }

    /// retention.sweep over `sweepIDs` Facial IDs of which `sweepExpired` are past retention.
    private func sweep() async throws {
        let now = Self.now()
        let ids = sweepIDs, expired = sweepExpired
        let seedStart = Date()
        // Expiry comes 8 s after seeding ends: after the server's start-up sweep, so that the
        // bench's own calls are the ones that find the expired Facial IDs.
        let expiry = Mutex<Int64>(0)
        let server = try await BenchServer(prepare: { path in
            let at = try await Seeder.seed(path: path, subjects: 0, facialIDs: ids, expired: expired, expiresIn: 8, now: now)
            expiry.withLock { $0 = at }
        })
        let expiresAt = expiry.withLock { $0 }
        print(String(format: "sweep   seeded %d Facial IDs (%d to expire) in %.1f s", ids, expired, Date().timeIntervalSince(seedStart)))
        while Self.now() <= expiresAt { try await Task.sleep(for: .milliseconds(200)) }
        let client = try await RawClient(path: server.socketPath)
        for dryRun in [true, false] {
            let t0 = Date()
            let r = try client.call("retention.sweep", #"{"dryRun":\#(dryRun),"limit":\#(expired)}"#)
            let dt = Date().timeIntervalSince(t0)
            let listed = r["result"]?["expired"]?.arrayValue?.count ?? -1
            let queued = r["result"]?["deletionsQueued"]?.intValue ?? -1
            print(String(
                format: "sweep   %@: %.2f s, examined %lld, expired listed %d, deletions queued %lld%@",
                (dryRun ? "dry run" : "real") as NSString, dt, r["result"]?["examined"]?.intValue ?? -1, listed, queued,
                (r["error"] != nil ? " ERROR \(r["error"]!)" : "") as NSString))
            // A sweep that finds less than was seeded measured something else: say so, and fail.
            if listed != expired || (!dryRun && queued != Int64(expired)) {
                client.close()
                await server.stop()
                throw BenchError("sweep: \(expired) Facial IDs were seeded to expire, the \(dryRun ? "dry run" : "real sweep") found \(listed) (queued \(queued)): the figures above do not measure the workload")
            }
        }
        print(String(format: "sweep   peak RSS %.1f MB with %d Facial IDs stored", Double(server.peakRSS) / 1_048_576, ids))
        client.close()
        await server.stop()
    }
}

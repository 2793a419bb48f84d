import ArgumentParser
import FioguardPolicy
import FioguardServer

/// `fioguard policy check FILE`, `fioguard policy explain FILE --input FACTS.json`.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Validate a policy file or explain a decision offline.",
        subcommands: [Check.self, Explain.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a policy file: exit 0 when valid, 1 with messages naming each bad field.")

        @Argument(help: "Policy file (JSON).")
        var file: String

        func run() throws {
            let bytes: [UInt8]
            do { bytes = try PolicySource.read(file) } catch {
                print("\(error)")
                throw ExitCode(1)
            }
            let (code, output) = PolicyTool.check(policyBytes: bytes)
            print(output)
            throw ExitCode(code)
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide offline and print the decision with its reasons (exit 0 allow, 3 deny, 1 bad policy, 2 bad facts).")

        @Argument(help: "Policy file (JSON), or 'default' for the built-in policy.")
        var file: String

        @Option(help: "Facts file (JSON, see proto-docs/policy.md).")
        var input: String

        func run() throws {
            let policyBytes: [UInt8]?
            let facts: [UInt8]
            // An unreadable policy is a bad policy (1), unreadable facts are bad facts (2).
            do { policyBytes = file == "default" ? nil : try PolicySource.read(file) } catch {
                print("\(error)")
                throw ExitCode(PolicyTool.exitBadPolicy)
            }
            do { facts = try PolicySource.read(input) } catch {
                print("\(error)")
                throw ExitCode(PolicyTool.exitBadFacts)
            }
            let (code, output) = PolicyTool.explain(policyBytes: policyBytes, factsBytes: facts)
            print(output)
            throw ExitCode(code)
        }
    }
}

import ArgumentParser

/// `firebreak bench …`: measurements users can run on their own data.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Firebreak's indexes on your data; prints one JSON object.",
        subcommands: [BenchHNSWCommand.self, BenchExactCommand.self, BenchBM25Command.self, BenchServiceCommand.self, BenchIngestCommand.self,
                      BenchScanCommand.self, BenchReplicasCommand.self, BenchSnapshotStoreCommand.self]
    )
}

// firebreak — the command-line tool.
//
// Owns: argument parsing, human and `--json` output, progress on stderr, exit codes.
// Never: holds index logic of its own (it calls VectorMath and HNSW), prints progress to
// stdout (stdout is for results, so scripts can parse it).
import ArgumentParser

@main
struct Firebreak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firebreak",
        abstract: "Keep a retrieval index safe to serve while it is under attack.",
        discussion: """
        Start with `firebreak doctor` to check the machine (which BLAS is loaded and how fast it is). \
        `firebreak serve` runs the HTTP API on the embedded PostgreSQL; the client commands \
        (collections, ingest, search, quarantine, release, flags, snapshots, rollback, rebuild, \
        blast-radius, token, api) talk to it with --url (FIREBREAK_URL) and --token (FIREBREAK_TOKEN). \
        `firebreak drill` runs the corpus-poisoning game day end to end on its own service. \
        `firebreak bench hnsw` measures the vector index on your own .npy/.fvecs files.
        """,
        subcommands: [DoctorCommand.self, ScanCommand.self, BenchCommand.self, DatabaseCommand.self, SnapshotCommand.self,
                      IncidentCommand.self, DrillCommand.self, ServeCommand.self, CollectionsCommand.self, IngestCommand.self,
                      SearchCommand.self, QuarantineCommand.self, ReleaseCommand.self, FlagsCommand.self,
                      SnapshotsCommand.self, RollbackCommand.self, RebuildCommand.self, BlastRadiusCommand.self,
                      TokenCommand.self, APICommand.self]
    )
}

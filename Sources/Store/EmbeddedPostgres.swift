import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a PostgreSQL server of Firebreak's own from the installed server binaries (Debian's
/// `postgresql` package), in a data folder Firebreak owns, listening on a Unix socket only.
///
/// Layout of `dataDirectory`: `pgdata/` (the cluster), `run/` (the socket), `postgres.log`.
/// `start()` initialises the cluster on first use and reuses it afterwards; `stop()` shuts it
/// down cleanly. PostgreSQL refuses to run as root, so under root every server command runs
/// as the `postgres` system user (`runuser`), which then owns the folder.
public struct EmbeddedPostgres: Sendable {
    public static let superuser = "firebreak"
    public static let database = "firebreak"
    /// Seconds `pg_ctl` waits for the server to start or stop.
    public static let startSecondsMax = 60

    public let dataDirectory: String
    /// Throwaway clusters for tests: fsync and synchronous commit off. Never for real data.
    public let durable: Bool
    let binaries: String

    public init(dataDirectory: String, durable: Bool = true) throws(StoreError) {
        self.dataDirectory = dataDirectory
        self.durable = durable
        binaries = try Self.findBinaries()
    }

    var clusterDirectory: String { dataDirectory + "/pgdata" }
    var socketDirectory: String { dataDirectory + "/run" }
    var logFile: String { dataDirectory + "/postgres.log" }

    /// libpq connection string for `user` (the superuser that owns the schema by default).
    public func conninfo(user: String = superuser, database: String = database) -> String {
        "host=\(Self.quoted(socketDirectory)) port=5432 user=\(Self.quoted(user)) dbname=\(Self.quoted(database)) connect_timeout=10"
    }

    /// A libpq conninfo value: single-quoted, with backslashes and quotes escaped.
    static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// `$XDG_DATA_HOME/firebreak` or `~/.local/share/firebreak`; `/var/lib/firebreak` for root,
    /// whose home the `postgres` user cannot enter.
    public static func defaultDataDirectory() -> String {
        if geteuid() == 0 { return "/var/lib/firebreak" }
        if let xdg = ProcessInfo.processInfo.environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/firebreak" }
        return NSHomeDirectory() + "/.local/share/firebreak"
    }

    /// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`.
    static func findBinaries() throws(StoreError) -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: bin + "/initdb"),
               FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl") {
                return bin
            }
        }
        throw StoreError(.launcherFailed, "no PostgreSQL server binaries under \(root) (install Debian's postgresql package, or pass --database-url)")
    }

    /// Starts the server (initialising the cluster on first use) and makes sure the
    /// `firebreak` database exists. Returns the superuser's connection string.
    @discardableResult
    public func start() throws(StoreError) -> String {
        try prepareFolder()
        if !FileManager.default.fileExists(atPath: clusterDirectory + "/PG_VERSION") { try initialise() }
        if try !isRunning() {
            try run(binaries + "/pg_ctl", ["-D", clusterDirectory, "-l", logFile, "-w",
                                           "-t", String(Self.startSecondsMax), "start"])
        }
        try createDatabaseIfMissing()
        return conninfo()
    }

    /// Stops the server cleanly (fast shutdown: running transactions are rolled back).
    public func stop() throws(StoreError) {
        guard try isRunning() else { return }
        try run(binaries + "/pg_ctl", ["-D", clusterDirectory, "-m", "fast", "-w",
                                       "-t", String(Self.startSecondsMax), "stop"])
    }

    /// `pg_ctl restart -m fast`: stops the server (rolling back running transactions, dropping
    /// every connection) and starts it again. Starts it if it was not running. Returns the
    /// superuser's connection string.
    @discardableResult
    public func restart() throws(StoreError) -> String {
        guard try isRunning() else { return try start() }
        try run(binaries + "/pg_ctl", ["-D", clusterDirectory, "-l", logFile, "-m", "fast", "-w",
                                       "-t", String(Self.startSecondsMax), "restart"])
        return conninfo()
    }

    public func isRunning() throws(StoreError) -> Bool {
        guard FileManager.default.fileExists(atPath: clusterDirectory + "/PG_VERSION") else { return false }
        return (try? run(binaries + "/pg_ctl", ["-D", clusterDirectory, "status"])) != nil
    }

    /// Unix socket paths are limited to 107 bytes (`sun_path`), including the socket file name.
    static let socketPathBytesMax = 107 - ".s.PGSQL.5432".utf8.count - 1

    private func prepareFolder() throws(StoreError) {
        guard socketDirectory.utf8.count <= Self.socketPathBytesMax else {
            throw StoreError(.launcherFailed, "data folder path too long for a Unix socket (\(socketDirectory.utf8.count) bytes in \(socketDirectory); at most \(Self.socketPathBytesMax)); choose a shorter --data-dir")
        }
        for folder in [dataDirectory, socketDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError(.launcherFailed, "cannot create \(folder): \(error.localizedDescription)")
            }
        }
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else {
                throw StoreError(.launcherFailed, "running as root needs the postgres system user (Debian's postgresql package creates it)")
            }
            for folder in [dataDirectory, socketDirectory] where chown(folder, account.pointee.pw_uid, account.pointee.pw_gid) != 0 {
                throw StoreError(.launcherFailed, "cannot hand \(folder) to the postgres user: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func initialise() throws(StoreError) {
        try run(binaries + "/initdb", ["-D", clusterDirectory, "-U", Self.superuser, "--auth=trust",
                                       "--encoding=UTF8", "--locale=C", "--no-instructions"])
        var settings = """

        # Added by Firebreak: Unix socket only, in Firebreak's own folder.
        listen_addresses = ''
        unix_socket_directories = '\(socketDirectory.replacingOccurrences(of: "'", with: "''"))'
        unix_socket_permissions = 0700

        """
        // A throwaway cluster (tests, benchmarks, drills) serves many short-lived servers whose
        // pools are only closed when their process ends: room for them all.
        if !durable { settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 400\n" }
        guard let handle = FileHandle(forUpdatingAtPath: clusterDirectory + "/postgresql.conf") else {
            throw StoreError(.launcherFailed, "cannot open \(clusterDirectory)/postgresql.conf")
        }
        handle.seekToEndOfFile()
        handle.write(Data(settings.utf8))
        handle.closeFile()
    }

    private func createDatabaseIfMissing() throws(StoreError) {
        let connection = try Connection(conninfo(database: "postgres"))
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [.text(Self.database)])
        if exists.isEmpty { try connection.query("CREATE DATABASE firebreak") }
    }

    /// Runs a server command (as `postgres` under root) and waits for it; a non-zero exit is
    /// `launcher_failed` with the command's last output lines. Output goes to a file, not a
    /// pipe: `pg_ctl start` leaves a daemon behind that must not hold our descriptors.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws(StoreError) -> String {
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments
                                  : [executable] + arguments
        let outputPath = NSTemporaryDirectory() + "firebreak-pg-command-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(outputPath) }
        let status = try ChildProcess.run(argv, outputPath: outputPath)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let tail = text.split(separator: "\n").suffix(5).joined(separator: " | ")
            throw StoreError(.launcherFailed, "\((executable as NSString).lastPathComponent) exited with \(status): \(tail)")
        }
        return text
    }
}

/// posix_spawn + waitpid: Foundation's `Process` can miss the exit of a child whose own
/// child (the postmaster) daemonises, and hang in `waitUntilExit`.
enum ChildProcess {
    static func run(_ argv: [String], outputPath: String) throws(StoreError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Start in "/": the postgres user may not be allowed into the caller's directory.
        let argv = ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh"] + argv
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw StoreError(.launcherFailed, "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw StoreError(.launcherFailed, "waiting for \(argv[0]) failed: \(String(cString: strerror(errno)))")
            }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

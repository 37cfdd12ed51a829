// Command fnhost is fnhost's single binary: `fnhost serve` runs the host (the
// FC 2016-08-15 management API, HTTP triggers and the WebAssembly runtime),
// and the other subcommands are a client for that API, built on host/client:
// deploy, invoke, ls, rm, logs. Run `fnhost help` for the list.
//
// For contributors: the package stays thin. main.go holds the command table,
// run (the whole CLI as a function of arguments, stdio and environment, so
// tests call it directly) and help output; cli.go the shared flag handling
// (flags may follow positional arguments; usageError exits 2, any other
// error 1 as "fnhost: <message>"); one file per subcommand parses its flags,
// validates locally before sending anything, calls host/client and formats
// the output (text for people, --json for scripts). config.go holds what
// serve and the client commands share: the default endpoint, the default
// data directory and the credentials.json file in it. Anything beyond
// parsing and printing belongs in host/client or the server.
package main

package dev.berth.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The main class of a served image: {@code berth} with only its {@code serve} command, on a class
 * path of only what serving needs (this module's runtime dependencies; docs/packaging.md).
 *
 * <p>It takes the same arguments as {@code berth serve ...}, {@code serve} first, so that an image's
 * command ({@code serve --models /models --host 0.0.0.0}) reads as on a workstation and a deployment
 * that overrides it writes what {@code berth serve --help} documents. The full command line
 * ({@code BerthMain}, cli module) registers the same {@link ServeCommand}.
 */
public final class ServeMain {
    private ServeMain() {
    }

    /** Runs {@code berth serve ...} and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The serving command line, with the shared error handling and exit codes. */
    public static CommandLine commandLine() {
        return commandLine(new Serving(), new ErrorHandler());
    }

    /** A berth command line: {@code top} with {@code errors} mapping its failures to exit codes (BerthMain's too). */
    static CommandLine commandLine(Object top, ErrorHandler errors) {
        return configure(new CommandLine(top), errors);
    }

    /**
     * {@code cl} with {@code errors} mapping its failures to exit codes. picocli applies these
     * settings to the subcommands {@code cl} has now, so they are added before this call.
     */
    static CommandLine configure(CommandLine cl, ErrorHandler errors) {
        cl.setExecutionExceptionHandler(errors);
        cl.setParameterExceptionHandler(errors);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    /** Runs one command line with the given output streams; returns its exit code. Used by tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(commandLine(), out, err, args);
    }

    /** Runs {@code cl} with the given output streams; returns its exit code. */
    static int run(CommandLine cl, PrintWriter out, PrintWriter err, String... args) {
        cl.setOut(out);
        cl.setErr(err);
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** The top-level command of an image: {@code berth serve} and {@code berth help}. */
    @Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = RuntimeFacts.VersionProvider.class,
            description = "Serves the models of a registry (this build holds only the serve command).",
            subcommands = {ServeCommand.class, CommandLine.HelpCommand.class})
    static final class Serving implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
        }
    }
}

package dev.berth.cli;

import dev.berth.packager.PackagingException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** The {@code berth} command line: one subcommand per class, all listed in {@link Berth}. */
public final class BerthMain {
    private BerthMain() {
    }

    /** The exception families of the commands beyond serving, with their exit codes (subtypes first). */
    static final List<Map.Entry<Class<? extends Throwable>, Integer>> COMMAND_EXCEPTIONS = List.of(
            Map.entry(PackagingException.InvalidOptionException.class, ErrorHandler.MISUSE),
            Map.entry(PackagingException.class, ErrorHandler.FAILURE),
            Map.entry(PerfSweep.PerfException.class, ErrorHandler.FAILURE));

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with every subcommand, the shared error handling and exit codes. */
    public static CommandLine commandLine() {
        return ServeMain.commandLine(new Berth(), new ErrorHandler(COMMAND_EXCEPTIONS));
    }

    /** Runs one command line with the given output streams; returns its exit code. Used by tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return ServeMain.run(commandLine(), out, err, args);
    }

    /** The top-level command. Add a subcommand with one line in {@code subcommands}. */
    @Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = RuntimeFacts.VersionProvider.class,
            description = "Keeps trained models with everything that explains them, serves and packages them.",
            subcommands = {
                    RegisterCommand.class,
                    ListCommand.class,
                    ShowCommand.class,
                    AliasCommand.class,
                    DiffCommand.class,
                    VerifyCommand.class,
                    DeleteCommand.class,
                    PackageCommand.class,
                    InspectCommand.class,
                    PushCommand.class,
                    PullCommand.class,
                    ReportCommand.class,
                    PerfCommand.class,
                    ServeCommand.class,
                    CommandLine.HelpCommand.class,
            })
    static final class Berth implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
        }
    }
}

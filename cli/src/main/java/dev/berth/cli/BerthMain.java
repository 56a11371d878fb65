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

    /** Every subcommand, in the order {@code berth --help} lists them. Add a command with one line here. */
    static final List<Class<?>> COMMANDS = List.of(
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
            CommandLine.HelpCommand.class);

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(commandLine(args).execute(args));
    }

    /** The command line with every subcommand, the shared error handling and exit codes. */
    public static CommandLine commandLine() {
        return withCommands(COMMANDS);
    }

    /**
     * The command line for running {@code args}: where the first argument names a command, only
     * that one is registered. Building a command's model loads its classes and reflects over each
     * of its options (picocli also throws and catches a NumberFormatException for every option
     * whose arity is left to it): about 0.5 s for all fifteen on a 2-core machine, against 0.25 s
     * for {@code serve} alone, and {@code berth serve}'s readiness waits for it. Anything else
     * ({@code help}, {@code --help}, a typo that wants suggestions) gets every command.
     */
    static CommandLine commandLine(String... args) {
        if (args.length > 0 && !args[0].equals("help")) {
            for (Class<?> c : COMMANDS) {
                Command command = c.getAnnotation(Command.class);
                if (command != null && command.name().equals(args[0])) {
                    return withCommands(List.of(c));
                }
            }
        }
        return commandLine();
    }

    private static CommandLine withCommands(List<Class<?>> commands) {
        CommandLine cl = new CommandLine(new Berth());
        for (Class<?> c : commands) {
            // a CommandLine of its own: picocli runs a command's model transformer (serve's flags) only there
            cl.addSubcommand(new CommandLine(c));
        }
        // after the subcommands: picocli gives these settings to the subcommands present when they are set
        return ServeMain.configure(cl, new ErrorHandler(COMMAND_EXCEPTIONS));
    }

    /** Runs one command line with the given output streams; returns its exit code. Used by tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return ServeMain.run(commandLine(args), out, err, args);
    }

    /** The top-level command; its subcommands are {@link #COMMANDS}, added by {@link #commandLine(String...)}. */
    @Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = RuntimeFacts.VersionProvider.class,
            description = "Keeps trained models with everything that explains them, serves and packages them.")
    static final class Berth implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
        }
    }
}

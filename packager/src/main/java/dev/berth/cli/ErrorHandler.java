package dev.berth.cli;

import dev.berth.packager.PackagingException;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.RegistryException;
import dev.berth.runtime.InferenceException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The one place where failures become exit codes and a one-line message on stderr, never a stack
 * trace: {@value #MISUSE} when the caller asked for something wrong (bad options, names, input
 * files, models that do not load), {@value #FAILURE} when a well-formed request could not be done
 * (unknown model, version or alias, a refused change, files that fail verification, I/O errors).
 */
public final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    /** Exit code of a well-formed request that could not be done. */
    public static final int FAILURE = 1;
    /** Exit code of a request that was wrong in itself (picocli's own code for usage errors). */
    public static final int MISUSE = 2;

    /**
     * Exception types whose message is written for the user, with their exit code; the first
     * match (by {@code instanceof}) wins, so list subtypes before their base. Other commands add
     * their own exception family here with one line.
     */
    static final List<Map.Entry<Class<? extends Throwable>, Integer>> KNOWN = List.of(
            Map.entry(ParameterException.class, MISUSE),
            Map.entry(InvalidArgumentException.class, MISUSE),
            Map.entry(InvalidModelException.class, MISUSE),
            Map.entry(RegistryException.class, FAILURE),
            Map.entry(InferenceException.InvalidInput.class, MISUSE),
            Map.entry(InferenceException.class, FAILURE),
            Map.entry(PackagingException.InvalidOptionException.class, MISUSE),
            Map.entry(PackagingException.class, FAILURE),
            Map.entry(PerfSweep.PerfException.class, FAILURE),
            Map.entry(IOException.class, FAILURE),
            Map.entry(UncheckedIOException.class, FAILURE));

    private static final System.Logger LOG = System.getLogger(ErrorHandler.class.getName());

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        String hint = "";
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            // a mistyped command or option: the known names within a small edit distance (picocli's own list is looser)
            String typed = u.getUnmatched().get(0);
            List<String> known = new java.util.ArrayList<>(cl.getSubcommands().keySet());
            cl.getCommandSpec().options().forEach(o -> known.addAll(List.of(o.names())));
            List<String> near = dev.berth.registry.Suggestions.near(typed, known);
            if (!near.isEmpty()) {
                hint = " (did you mean " + near.stream().map(x -> "'" + x + "'").collect(java.util.stream.Collectors.joining(" or ")) + "?)";
            }
        }
        String message = ex.getMessage();
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !cl.getSubcommands().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-") && cl.getParseResult() != null && !cl.getParseResult().hasSubcommand()) {
            message = "unknown command '" + u.getUnmatched().get(0) + "'";
        }
        cl.getErr().println(prefix(cl) + oneLine(message) + hint + " (see '" + cl.getCommandSpec().qualifiedName() + " --help')");
        cl.getErr().flush();
        return MISUSE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        boolean known = KNOWN.stream().anyMatch(e -> e.getKey().isInstance(ex));
        String message;
        if (ex instanceof UncheckedIOException u) {
            message = describe(u.getCause());
        } else if (ex instanceof IOException io) {
            message = describe(io);
        } else if (known) {
            message = ex.getMessage();
        } else {
            // Unexpected: the trace goes to the log for whoever turns logging up, not to the user's terminal.
            LOG.log(System.Logger.Level.DEBUG, "unexpected failure", ex);
            message = "internal error: " + describe(ex);
        }
        cl.getErr().println(prefix(cl) + oneLine(message));
        cl.getErr().flush();
        return exitCode(ex);
    }

    /** The exit code for an exception that escaped a command. */
    public static int exitCode(Throwable ex) {
        return KNOWN.stream().filter(e -> e.getKey().isInstance(ex)).map(Map.Entry::getValue).findFirst().orElse(FAILURE);
    }

    private static String prefix(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName() + ": ";
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String m = t.getMessage();
        String kind = switch (t) {
            case java.nio.file.NoSuchFileException e -> "no such file";
            case java.nio.file.AccessDeniedException e -> "permission denied";
            case java.nio.file.FileAlreadyExistsException e -> "already exists";
            default -> t.getClass().getSimpleName();
        };
        return m == null ? kind : kind + ": " + m;
    }

    static String oneLine(String s) {
        // picocli words some messages "Value for option option '--tag' ..." (its own name for the option, then ours)
        return s == null ? "unknown error" : s.replaceAll("\\s*\\R\\s*", " ").replace("option option '", "option '").trim();
    }
}

package dev.berth.cli;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.RegistryException;
import dev.berth.registry.Suggestions;
import dev.berth.runtime.InferenceException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

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
     * Exception types whose message is written for the user, with their exit code, that every
     * command may throw; the first match (by {@code instanceof}) wins, so list subtypes before their
     * base. A command line with commands of its own adds their families through
     * {@link #ErrorHandler(List)} ({@code BerthMain} adds packaging's and perf's).
     */
    static final List<Map.Entry<Class<? extends Throwable>, Integer>> SHARED = List.of(
            Map.entry(ParameterException.class, MISUSE),
            Map.entry(InvalidArgumentException.class, MISUSE),
            Map.entry(InvalidModelException.class, MISUSE),
            Map.entry(RegistryException.class, FAILURE),
            Map.entry(InferenceException.InvalidInput.class, MISUSE),
            Map.entry(InferenceException.class, FAILURE),
            Map.entry(IOException.class, FAILURE),
            Map.entry(UncheckedIOException.class, FAILURE));

    private static final System.Logger LOG = System.getLogger(ErrorHandler.class.getName());

    private final List<Map.Entry<Class<? extends Throwable>, Integer>> known;

    /** The handler for the exceptions every command may throw ({@link #SHARED}). */
    public ErrorHandler() {
        this(List.of());
    }

    /**
     * The handler for {@link #SHARED} and {@code more}: exception types whose message is written for
     * the user, with their exit code, checked first (so a subtype of a shared type may be listed).
     */
    public ErrorHandler(List<Map.Entry<Class<? extends Throwable>, Integer>> more) {
        List<Map.Entry<Class<? extends Throwable>, Integer>> all = new ArrayList<>(more);
        all.addAll(SHARED);
        known = List.copyOf(all);
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        String hint = "";
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            // a mistyped command or option: the known names within a small edit distance (picocli's own list is looser)
            String typed = u.getUnmatched().get(0);
            List<String> names = new ArrayList<>(cl.getSubcommands().keySet());
            cl.getCommandSpec().options().forEach(o -> names.addAll(List.of(o.names())));
            List<String> near = Suggestions.near(typed, names);
            if (!near.isEmpty()) {
                hint = " (did you mean " + near.stream().map(x -> "'" + x + "'").collect(Collectors.joining(" or ")) + "?)";
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
        boolean isKnown = known.stream().anyMatch(e -> e.getKey().isInstance(ex));
        String message;
        if (ex instanceof UncheckedIOException u) {
            message = describe(u.getCause());
        } else if (ex instanceof IOException io) {
            message = describe(io);
        } else if (isKnown) {
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
    public int exitCode(Throwable ex) {
        return known.stream().filter(e -> e.getKey().isInstance(ex)).map(Map.Entry::getValue).findFirst().orElse(FAILURE);
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
            case NoSuchFileException e -> "no such file";
            case AccessDeniedException e -> "permission denied";
            case FileAlreadyExistsException e -> "already exists";
            default -> t.getClass().getSimpleName();
        };
        return m == null ? kind : kind + ": " + m;
    }

    static String oneLine(String s) {
        // picocli words some messages "Value for option option '--tag' ..." (its own name for the option, then ours)
        return s == null ? "unknown error" : s.replaceAll("\\s*\\R\\s*", " ").replace("option option '", "option '").trim();
    }
}

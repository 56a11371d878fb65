package dev.berth.cli;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.RegistryException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one place where failures become exit codes and a one-line message on stderr, never a stack
 * trace: {@value #MISUSE} when the caller asked for something wrong (bad options, names, input
 * files, models that do not load), {@value #FAILURE} when a well-formed request could not be done
 * (unknown model, version or alias, a refused change, files that fail verification, I/O errors).
 */
public final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    public static final int FAILURE = 1;
    public static final int MISUSE = 2;

    private static final System.Logger LOG = System.getLogger(ErrorHandler.class.getName());

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        cl.getErr().println(prefix(cl) + oneLine(ex.getMessage()) + " (see '" + cl.getCommandSpec().qualifiedName() + " --help')");
        cl.getErr().flush();
        return MISUSE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        int code = exitCode(ex);
        String message = ex instanceof RegistryException || ex instanceof ParameterException ? ex.getMessage()
                : ex instanceof UncheckedIOException u ? describe(u.getCause())
                : ex instanceof IOException io ? describe(io)
                : "internal error: " + describe(ex);
        if (code == FAILURE && !(ex instanceof RegistryException) && !(ex instanceof IOException) && !(ex instanceof UncheckedIOException)) {
            // Unexpected: keep the trace for whoever turns logging up, not on the user's terminal.
            LOG.log(System.Logger.Level.DEBUG, "unexpected failure", ex);
        }
        cl.getErr().println(prefix(cl) + oneLine(message));
        cl.getErr().flush();
        return code;
    }

    /** The exit code for an exception that escaped a command. */
    public static int exitCode(Throwable ex) {
        if (ex instanceof InvalidArgumentException || ex instanceof InvalidModelException || ex instanceof ParameterException) {
            return MISUSE;
        }
        return FAILURE;
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
        return s == null ? "unknown error" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}

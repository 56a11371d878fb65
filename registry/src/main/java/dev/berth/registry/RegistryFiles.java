package dev.berth.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads berth's own JSON files ({@code model.json}, {@code manifest.json}) with messages written for
 * the person who edited them: the file, the key (as a path such as {@code serving.sessions} or
 * {@code version_policy.kind}) and what it accepts, never the parser's class names or
 * reference chains.
 */
final class RegistryFiles {
    private RegistryFiles() {
    }

    /**
     * @throws InvalidArgumentException for a value that is wrong for its key
     * @throws RegistryException        for a file that is not JSON or cannot be read
     */
    static <T> T read(Path file, Class<T> type) {
        try {
            return RegistryJson.mapper().readValue(file.toFile(), type);
        } catch (JsonMappingException e) {
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof StreamReadException syntax) {
                    // a syntax error met inside a nested reader: still a syntax error, where it is
                    throw new RegistryException(file + " is not valid JSON: " + original(syntax) + location(syntax), e);
                }
            }
            InvalidArgumentException ours = ownCause(e);
            String key = keyPath(e);
            if (ours != null) {
                String m = ours.getMessage();
                // our messages name their key already ("serving.sessions must ..."); a record's own rule gets the path
                throw new InvalidArgumentException(file + ": " + (key.isEmpty() || m.startsWith("serving") || m.startsWith(key) ? m
                        : key + ": " + m), e);
            }
            if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
                String allowed = Arrays.stream(f.getTargetType().getEnumConstants()).map(Object::toString).collect(Collectors.joining(", "));
                throw new InvalidArgumentException(file + ": " + key + " must be one of " + allowed + ", got '" + f.getValue() + "'", e);
            }
            if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
                throw new InvalidArgumentException(file + ": " + key + " must be " + describe(m.getTargetType()) + location(e), e);
            }
            throw new RegistryException("unreadable " + file + ": " + (key.isEmpty() ? "" : key + ": ") + original(e) + location(e), e);
        } catch (JsonProcessingException e) {
            throw new RegistryException(file + " is not valid JSON: " + original(e) + location(e), e);
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static InvalidArgumentException ownCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidArgumentException i) {
                return i;
            }
        }
        return null;
    }

    private static String keyPath(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static String describe(Class<?> type) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "a whole number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return "a " + type.getSimpleName();
    }

    private static String original(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        // Jackson quotes class names in backticks; a person needs the words around them
        return m.replaceAll("`[^`]*`", "value").replaceAll("\\s+", " ").trim();
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() != null && e.getLocation().getLineNr() > 0
                ? " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")" : "";
    }
}

package dev.berth.registry;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * A reference to a model version as users write it: {@code NAME}, {@code NAME:VERSION} or
 * {@code NAME@ALIAS}. A bare name means the model's default version (its {@code production}
 * alias when set, else the highest version).
 */
public record ModelRef(String name, OptionalInt version, Optional<String> alias) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    public ModelRef {
        requireValidName(name, "model name");
        if (version.isPresent() && alias.isPresent()) {
            throw new InvalidArgumentException("a model reference takes a version or an alias, not both");
        }
        alias.ifPresent(a -> requireValidName(a, "alias"));
    }

    /** Parses {@code NAME}, {@code NAME:VERSION} or {@code NAME@ALIAS}; throws {@link InvalidArgumentException} otherwise. */
    public static ModelRef parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidArgumentException("empty model reference; expected NAME, NAME:VERSION or NAME@ALIAS");
        }
        int colon = text.indexOf(':');
        int at = text.indexOf('@');
        if (colon >= 0 && at >= 0) {
            throw new InvalidArgumentException("'" + text + "': use NAME:VERSION or NAME@ALIAS, not both");
        }
        if (colon >= 0) {
            return new ModelRef(text.substring(0, colon), OptionalInt.of(parseVersion(text.substring(colon + 1))), Optional.empty());
        }
        if (at >= 0) {
            return new ModelRef(text.substring(0, at), OptionalInt.empty(), Optional.of(text.substring(at + 1)));
        }
        return new ModelRef(text, OptionalInt.empty(), Optional.empty());
    }

    /** Parses a version number: a positive decimal integer. */
    public static int parseVersion(String text) {
        if (text == null || !text.matches("[1-9][0-9]{0,8}")) {
            throw new InvalidArgumentException("'" + text + "' is not a version number (1, 2, 3, ...)");
        }
        return Integer.parseInt(text);
    }

    /** Whether {@code name} is usable as a model or alias name (and so as a folder name). */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    /** Returns {@code name}, or throws {@link InvalidArgumentException} naming {@code what} when it is not valid. */
    public static String requireValidName(String name, String what) {
        if (!isValidName(name)) {
            throw new InvalidArgumentException("invalid " + what + " '" + name + "': use letters, digits, '_', '.', '-', starting with a letter or digit");
        }
        return name;
    }

    /**
     * An alias name: a valid name that is not all digits. {@code /v2/models/m/versions/5} and the
     * gRPC {@code model_version} take a version or an alias in one field, so an alias "5" would be
     * shadowed by (or mistaken for) version 5.
     */
    public static String requireValidAlias(String alias) {
        requireValidName(alias, "alias");
        if (alias.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new InvalidArgumentException("invalid alias '" + alias + "': an alias must not be a number, which reads as"
                    + " a version where the protocol takes either");
        }
        return alias;
    }

    @Override
    public String toString() {
        if (version.isPresent()) {
            return name + ":" + version.getAsInt();
        }
        return alias.map(a -> name + "@" + a).orElse(name);
    }
}

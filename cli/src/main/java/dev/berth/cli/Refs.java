package dev.berth.cli;

import dev.berth.registry.AliasTarget;

import java.util.stream.Collectors;

/** Small text helpers the commands share. */
final class Refs {
    private Refs() {
    }

    /** {@code 3} or {@code 3 (90), 4 (10)}. */
    static String target(AliasTarget t) {
        if (!t.isSplit()) {
            return Integer.toString(t.primaryVersion());
        }
        return t.targets().stream().map(w -> w.version() + " (" + w.weight() + ")").collect(Collectors.joining(", "));
    }

    static String abbreviate(String value, int max) {
        if (value == null) {
            return "-";
        }
        if (value.length() <= max) {
            return value;
        }
        return value.substring(0, Math.max(1, max - 3)) + "...";
    }

    /** Space-pads to a width. */
    static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}

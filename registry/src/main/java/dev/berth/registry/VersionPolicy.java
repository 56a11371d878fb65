package dev.berth.registry;

import java.util.List;
import java.util.TreeSet;

/**
 * Which versions of a model the server loads, as in Triton: all of them, the latest N, or a
 * fixed list. The default is {@link #all()}.
 */
public record VersionPolicy(Kind kind, int latest, List<Integer> versions) {
    /** Which rule selects the versions. */
    public enum Kind { ALL, LATEST, SPECIFIC }

    public VersionPolicy {
        versions = versions == null ? List.of() : List.copyOf(versions);
        if (kind == Kind.LATEST && latest < 1) {
            throw new InvalidArgumentException("version policy 'latest' needs a count of 1 or more");
        }
        if (kind == Kind.SPECIFIC && versions.isEmpty()) {
            throw new InvalidArgumentException("version policy 'specific' needs at least one version");
        }
    }

    /** Every complete version. */
    public static VersionPolicy all() {
        return new VersionPolicy(Kind.ALL, 0, List.of());
    }

    /** The {@code n} highest versions. */
    public static VersionPolicy latest(int n) {
        return new VersionPolicy(Kind.LATEST, n, List.of());
    }

    /** Exactly the listed versions (those that exist). */
    public static VersionPolicy specific(List<Integer> versions) {
        return new VersionPolicy(Kind.SPECIFIC, 0, versions);
    }

    /** The subset of {@code available} (any order) that this policy selects, ascending. */
    public List<Integer> select(List<Integer> available) {
        TreeSet<Integer> sorted = new TreeSet<>(available);
        return switch (kind) {
            case ALL -> List.copyOf(sorted);
            case LATEST -> sorted.descendingSet().stream().limit(latest).sorted().toList();
            case SPECIFIC -> sorted.stream().filter(versions::contains).toList();
        };
    }
}

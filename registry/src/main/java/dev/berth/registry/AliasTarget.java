package dev.berth.registry;

import java.util.Comparator;
import java.util.List;

/**
 * What an alias points at: one version, or several with weights that split traffic between them
 * (a canary: {@code production -> 3 (90), 4 (10)}).
 */
public record AliasTarget(List<WeightedVersion> targets) {
    public AliasTarget {
        if (targets == null || targets.isEmpty()) {
            throw new InvalidArgumentException("an alias needs at least one version");
        }
        targets = List.copyOf(targets);
        if (targets.stream().map(WeightedVersion::version).distinct().count() != targets.size()) {
            throw new InvalidArgumentException("an alias names each version once");
        }
    }

    public static AliasTarget single(int version) {
        return new AliasTarget(List.of(new WeightedVersion(version, 100)));
    }

    @com.fasterxml.jackson.annotation.JsonIgnore // derived; kept out of model.json
    public boolean isSplit() {
        return targets.size() > 1;
    }

    public int totalWeight() {
        return targets.stream().mapToInt(WeightedVersion::weight).sum();
    }

    /** The version with the largest share; where the CLI needs one version for an alias, it uses this. */
    public int primaryVersion() {
        return targets.stream().max(Comparator.comparingInt(WeightedVersion::weight)).orElseThrow().version();
    }

    /** Picks a version for a draw in [0, totalWeight()). */
    public int pick(int draw) {
        int acc = 0;
        for (WeightedVersion t : targets) {
            acc += t.weight();
            if (draw < acc) {
                return t.version();
            }
        }
        return targets.get(targets.size() - 1).version();
    }

    public boolean references(int version) {
        return targets.stream().anyMatch(t -> t.version() == version);
    }
}

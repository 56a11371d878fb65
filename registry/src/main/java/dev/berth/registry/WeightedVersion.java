package dev.berth.registry;

/** One target of an alias: a version and its share of traffic (a positive weight). */
public record WeightedVersion(int version, int weight) {
    public WeightedVersion {
        if (version < 1) {
            throw new InvalidArgumentException("version must be 1 or more, got " + version);
        }
        if (weight < 1) {
            throw new InvalidArgumentException("weight must be 1 or more, got " + weight);
        }
    }
}

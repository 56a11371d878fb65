package dev.berth.registry;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the registry records per model ({@code <name>/model.json}): description, aliases, which
 * versions to serve, and the model's serving configuration. A model folder without this file
 * gets {@link #empty(String)}.
 */
public record ModelInfo(String name, String description, Map<String, AliasTarget> aliases,
                        VersionPolicy versionPolicy, ServingConfig serving) {
    /** The alias a bare model name resolves to when it exists. */
    public static final String PRODUCTION = "production";

    public ModelInfo {
        description = description == null ? "" : description;
        aliases = aliases == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(aliases));
        versionPolicy = versionPolicy == null ? VersionPolicy.all() : versionPolicy;
    }

    /** What a model without model.json has: no description, no aliases, every version served, default serving. */
    public static ModelInfo empty(String name) {
        return new ModelInfo(name, "", Map.of(), VersionPolicy.all(), null);
    }

    /** Where {@code alias} points, empty when it is not set. */
    public Optional<AliasTarget> alias(String alias) {
        return Optional.ofNullable(aliases.get(alias));
    }

    /** A copy with {@code alias} set (or moved) to {@code target}. */
    public ModelInfo withAlias(String alias, AliasTarget target) {
        Map<String, AliasTarget> copy = new TreeMap<>(aliases);
        copy.put(alias, target);
        return new ModelInfo(name, description, copy, versionPolicy, serving);
    }

    /** A copy without {@code alias}. */
    public ModelInfo withoutAlias(String alias) {
        Map<String, AliasTarget> copy = new TreeMap<>(aliases);
        copy.remove(alias);
        return new ModelInfo(name, description, copy, versionPolicy, serving);
    }

    /** A copy with another description. */
    public ModelInfo withDescription(String newDescription) {
        return new ModelInfo(name, newDescription, aliases, versionPolicy, serving);
    }

    /** The serving configuration for a version: the version's own, else the model's, else the defaults. */
    public ServingConfig servingFor(ModelManifest manifest) {
        if (manifest != null && manifest.serving() != null) {
            return manifest.serving();
        }
        return serving != null ? serving : ServingConfig.defaults();
    }
}

package dev.berth.cli;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelRef;
import dev.berth.registry.WeightedVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code berth delete NAME:VERSION [--force | --move-aliases-to V]}. An alias that points at the
 * version decides where traffic goes, so deleting it must not silently send that traffic somewhere
 * else (issue 10): without an option it is refused; {@code --move-aliases-to V} moves every such
 * alias to V first; {@code --force} drops the version from them and says where each alias, and the
 * traffic that names no version, goes now.
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Deletes one version; deleting the last one removes the model.",
                "Refused while an alias points at the version, unless --move-aliases-to V, which moves those aliases to V",
                "first, or --force, which takes the version out of them and prints where their traffic goes now.",
                "Version numbers are not reused."})
final class DeleteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME:VERSION")
    String ref;
    @Option(names = "--force", description = "Delete even if aliases point at the version (they lose it; prints where traffic goes).")
    boolean force;
    @Option(names = "--move-aliases-to", paramLabel = "VERSION",
            description = "Move every alias that points at the version to VERSION, then delete it.")
    Integer moveTo;

    @Override
    public Integer call() {
        ModelRef r = ModelRef.parse(ref);
        if (r.version().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "'" + ref + "': name the version to delete as NAME:VERSION");
        }
        int version = r.version().getAsInt();
        if (moveTo != null && moveTo == version) {
            throw new ParameterException(spec.commandLine(), "--move-aliases-to " + moveTo + " names the version being deleted");
        }
        LocalRegistry registry = models.existingRegistry();
        PrintWriter out = spec.commandLine().getOut();
        if (moveTo != null) {
            registry.requireVersion(r.name(), version);
            registry.requireVersion(r.name(), moveTo);
            for (Map.Entry<String, AliasTarget> e : registry.info(r.name()).aliases().entrySet()) {
                if (e.getValue().references(version)) {
                    AliasTarget moved = moved(e.getValue(), version, moveTo);
                    registry.setAlias(r.name(), e.getKey(), moved);
                    out.println("moved " + r.name() + "@" + e.getKey() + ": " + e.getKey() + " -> " + Refs.target(moved));
                }
            }
        }
        ModelInfo before = registry.info(r.name());
        List<String> changed = registry.deleteVersion(r.name(), version, force);
        out.println("deleted " + r.name() + ":" + version
                + (changed.isEmpty() ? "" : " (aliases updated: " + String.join(", ", changed) + ")"));
        if (!registry.exists(r.name())) {
            out.println("model " + r.name() + " had no other version and is removed"
                    + (changed.isEmpty() ? "" : " with its aliases (" + String.join(", ", changed) + ")")
                    + "; a new registration under this name does not reuse its version numbers");
        } else if (!changed.isEmpty()) {
            ModelInfo after = registry.info(r.name());
            for (String alias : changed) {
                out.println(after.alias(alias).map(t -> "alias " + alias + " now -> " + Refs.target(t))
                        .orElse("alias " + alias + " removed: " + (alias.equals(ModelInfo.PRODUCTION)
                                ? "requests that name no version now go to " + defaultTarget(registry, r.name(), after)
                                : "requests naming @" + alias + " now get 404")));
            }
        }
        return 0;
    }

    /** The alias with {@code from} replaced by {@code to} (weights added where {@code to} was already a target). */
    static AliasTarget moved(AliasTarget target, int from, int to) {
        Map<Integer, Integer> weights = new LinkedHashMap<>();
        for (WeightedVersion wv : target.targets()) {
            weights.merge(wv.version() == from ? to : wv.version(), wv.weight(), Integer::sum);
        }
        List<WeightedVersion> list = new ArrayList<>();
        weights.forEach((v, w) -> list.add(new WeightedVersion(v, w)));
        return new AliasTarget(list);
    }

    /** Where the server sends a request that names no version, once {@code production} is gone: the latest version. */
    private static String defaultTarget(LocalRegistry registry, String model, ModelInfo info) {
        List<Integer> versions = registry.versions(model);
        if (versions.isEmpty()) {
            return "no version (the model has none left)";
        }
        int latest = versions.get(versions.size() - 1);
        List<String> aliases = info.aliases().entrySet().stream().filter(e -> e.getValue().references(latest))
                .map(Map.Entry::getKey).toList();
        return model + ":" + latest + " (the latest version" + (aliases.isEmpty() ? "" : "; alias " + String.join(", ", aliases)) + ")";
    }
}

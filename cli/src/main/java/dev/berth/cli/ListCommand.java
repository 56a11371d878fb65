package dev.berth.cli;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;
import dev.berth.registry.RegistryJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code berth list [--json]}: models with their versions, aliases and headline metric. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists models with their versions, aliases and the headline metric of the default version.")
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;
    @picocli.CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "REGISTRY/REPOSITORY",
            description = "List a model's OCI repository instead of the local registry.")
    String remote;
    @Mixin
    RegistryOptions registryOptions;

    /** One model in {@code list --json}. */
    record Entry(String name, String description, List<Integer> versions, Map<String, AliasTarget> aliases,
                 Integer defaultVersion, Headline headline) {
    }

    /** The headline metric of the model's default version. */
    record Headline(int version, String metric, Number value) {
    }

    @Override
    public Integer call() throws IOException {
        if (remote != null) {
            return RemoteCommands.list(remote, registryOptions, json, spec.commandLine().getOut());
        }
        LocalRegistry registry = models.existingRegistry();
        List<Entry> entries = new ArrayList<>();
        for (String name : registry.models()) {
            ModelInfo info = registry.info(name);
            List<Integer> versions = registry.versions(name);
            Integer defaultVersion = versions.isEmpty() ? null : registry.resolve(ModelRef.parse(name));
            Headline headline = null;
            if (defaultVersion != null && versions.contains(defaultVersion)) {
                Optional<ModelManifest> m = registry.storedManifest(name, defaultVersion);
                Map.Entry<String, Number> h = m.map(ModelManifest::headlineMetric).orElse(null);
                if (h != null) {
                    headline = new Headline(defaultVersion, h.getKey(), h.getValue());
                }
            }
            entries.add(new Entry(name, info.description(), versions, info.aliases(), defaultVersion, headline));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(RegistryJson.mapper().writeValueAsString(entries));
            return 0;
        }
        if (entries.isEmpty()) {
            out.println("no models in " + registry.root());
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"MODEL", "VERSIONS", "ALIASES", "HEADLINE", "DESCRIPTION"});
        for (Entry e : entries) {
            rows.add(new String[] {
                    e.name(),
                    e.versions().stream().map(String::valueOf).collect(Collectors.joining(",")),
                    e.aliases().isEmpty() ? "-" : e.aliases().entrySet().stream()
                            .map(a -> a.getKey() + "->" + Refs.target(a.getValue())).collect(Collectors.joining(" ")),
                    e.headline() == null ? "-" : e.headline().metric() + " " + Sizes.metric(e.headline().value()) + " (v" + e.headline().version() + ")",
                    Refs.abbreviate(e.description(), 50)});
        }
        Table.print(out, rows);
        return 0;
    }
}

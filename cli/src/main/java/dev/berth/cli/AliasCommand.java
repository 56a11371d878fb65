package dev.berth.cli;

import dev.berth.oci.OciReference;
import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelRef;
import dev.berth.registry.WeightedVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code berth alias NAME ALIAS VERSION...} sets, {@code berth alias NAME ALIAS --delete} removes. */
@Command(name = "alias", mixinStandardHelpOptions = true,
        description = {"Points an alias at a version, or splits it by weight between versions (a canary).",
                "  berth alias churn production 3          production -> 3",
                "  berth alias churn production 3=90 4=10  90%% of requests to 3, 10%% to 4",
                "  berth alias churn production --delete"})
final class AliasCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME|REGISTRY/REPOSITORY")
    String name;
    @Parameters(index = "1", paramLabel = "ALIAS")
    String alias;
    @Parameters(index = "2..*", paramLabel = "VERSION[=WEIGHT]", arity = "0..*",
            description = "A version, or several version=weight pairs.")
    List<String> versions = new ArrayList<>();
    @Option(names = "--delete", description = "Remove the alias.")
    boolean delete;
    @Mixin
    RegistryOptions registryOptions;

    @Override
    public Integer call() {
        if (OciReference.looksRemote(name)) { // a model's OCI repository: move its alias tag
            return RemoteCommands.alias(name, alias, versions, delete, registryOptions, spec.commandLine().getOut());
        }
        ModelRef.requireValidName(name, "model name");
        ModelRef.requireValidName(alias, "alias");
        LocalRegistry registry = models.existingRegistry();
        if (delete) {
            if (!versions.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "give versions or --delete, not both");
            }
            registry.deleteAlias(name, alias);
            spec.commandLine().getOut().println("removed alias " + name + "@" + alias);
            return 0;
        }
        if (versions.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "missing VERSION (or --delete)");
        }
        AliasTarget target = parse(versions);
        registry.setAlias(name, alias, target);
        spec.commandLine().getOut().println(name + "@" + alias + " -> " + Refs.target(target));
        return 0;
    }

    private AliasTarget parse(List<String> specs) {
        if (specs.size() == 1 && !specs.get(0).contains("=")) {
            return AliasTarget.single(ModelRef.parseVersion(specs.get(0)));
        }
        List<WeightedVersion> targets = new ArrayList<>();
        for (String s : specs) {
            int eq = s.indexOf('=');
            if (eq < 0) {
                throw new ParameterException(spec.commandLine(), "'" + s + "': with several versions give each as VERSION=WEIGHT");
            }
            String weight = s.substring(eq + 1);
            if (!weight.matches("[1-9][0-9]{0,5}")) {
                throw new ParameterException(spec.commandLine(), "'" + s + "': the weight must be a positive whole number");
            }
            targets.add(new WeightedVersion(ModelRef.parseVersion(s.substring(0, eq)), Integer.parseInt(weight)));
        }
        return new AliasTarget(targets);
    }
}

package dev.berth.cli;

import dev.berth.registry.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code berth delete NAME:VERSION [--force]}. */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Deletes one version. Refused while an alias points at it, unless --force,",
                "which also takes the version out of those aliases. Version numbers are not reused."})
final class DeleteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Parameters(index = "0", paramLabel = "NAME:VERSION")
    String ref;
    @Option(names = "--force", description = "Delete even if aliases point at the version.")
    boolean force;

    @Override
    public Integer call() {
        ModelRef r = ModelRef.parse(ref);
        if (r.version().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "'" + ref + "': name the version to delete as NAME:VERSION");
        }
        int version = r.version().getAsInt();
        List<String> changed = models.registry().deleteVersion(r.name(), version, force);
        spec.commandLine().getOut().println("deleted " + r.name() + ":" + version
                + (changed.isEmpty() ? "" : " (aliases updated: " + String.join(", ", changed) + ")"));
        return 0;
    }
}

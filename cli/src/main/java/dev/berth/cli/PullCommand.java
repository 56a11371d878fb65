package dev.berth.cli;

import dev.berth.oci.OciPuller;
import dev.berth.oci.OciReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code berth pull REGISTRY/REPOSITORY[:TAG|@DIGEST]}: a remote version into the local registry. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Pulls a version from an OCI registry into the local registry under its own number, every digest verified.",
                "TAG is a version number or an alias (set locally too); none means production, else the highest version.",
                "Pulling a version that is already here with the same content changes nothing.",
                "Prints NAME:VERSION on the last line."})
final class PullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Mixin
    RegistryOptions registryOptions;
    @Parameters(index = "0", paramLabel = "REGISTRY/REPOSITORY[:TAG|@DIGEST]")
    String source;

    @Override
    public Integer call() {
        OciReference ref = OciReference.parse(source);
        PrintWriter out = spec.commandLine().getOut();
        TransferProgress progress = new TransferProgress(spec.commandLine().getErr(), ProgressPrinter.stderrIsTerminal(), "pulling");
        OciPuller.Result result;
        try {
            result = OciPuller.pull(registryOptions.client(ref), ref, models.registry(), null, progress);
        } finally {
            progress.finish();
        }
        String label = result.name() + ":" + result.version();
        out.println((result.imported() ? "pulled " + label + " from " + ref : label + " is already here with the same digests; nothing pulled")
                + result.alias().map(a -> " (alias " + a + ")").orElse("") + " " + result.digest());
        out.println(label);
        return 0;
    }
}

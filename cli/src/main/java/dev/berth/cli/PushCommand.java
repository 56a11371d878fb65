package dev.berth.cli;

import dev.berth.oci.OciPusher;
import dev.berth.oci.OciReference;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code berth push NAME[:VERSION|@ALIAS] REGISTRY/REPOSITORY[:VERSION]}: a version as one OCI artifact. */
@Command(name = "push", mixinStandardHelpOptions = true,
        description = {"Pushes a version to an OCI registry as one artifact, tagged with its version number.",
                "Its files are the layers and manifest.json the config; blobs the repository already holds are not sent again.",
                "Prints the manifest digest on the last line. Credentials come from the Docker config file.",
                "  berth push churn:3 registry.example.com/ml/churn"})
final class PushCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ModelsOption models;
    @Mixin
    RegistryOptions registryOptions;
    @Parameters(index = "0", paramLabel = "NAME[:VERSION|@ALIAS]")
    String source;
    @Parameters(index = "1", paramLabel = "REGISTRY/REPOSITORY[:VERSION]")
    String target;

    @Override
    public Integer call() {
        OciReference ref = OciReference.parse(target);
        LocalRegistry registry = models.existingRegistry();
        ModelRef model = ModelRef.parse(source);
        int version = registry.resolve(model);
        PrintWriter out = spec.commandLine().getOut();
        TransferProgress progress = new TransferProgress(spec.commandLine().getErr(), ProgressPrinter.stderrIsTerminal(), "pushing");
        OciPusher.Result result;
        try {
            result = OciPusher.push(registry, model.name(), version, ref, registryOptions.client(ref), progress);
        } finally {
            progress.finish();
        }
        out.println("pushed " + model.name() + ":" + version + " to " + result.reference() + " (" + result.uploaded() + " blobs sent, "
                + result.uploadedBytes() + " bytes; " + result.skipped() + " already there)");
        out.println(result.digest());
        return 0;
    }
}

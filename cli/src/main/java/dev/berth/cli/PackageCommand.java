package dev.berth.cli;

import dev.berth.packager.BaseImage;
import dev.berth.packager.Content;
import dev.berth.packager.ImagePackager;
import dev.berth.packager.ImageTarget;
import dev.berth.packager.KubernetesManifests;
import dev.berth.packager.PackageResult;
import dev.berth.registry.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code berth package}: builds an OCI image serving one model version and prints its digest last. */
@Command(name = "package", mixinStandardHelpOptions = true,
        description = {"Builds an OCI image that serves one model version (no Docker daemon needed).",
                "Prints the image digest on the last line."})
public final class PackageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME[:VERSION|@ALIAS]", description = "the model version to package")
    String model;

    @Option(names = "--image", required = true, paramLabel = "REF", description = "image reference to build, e.g. registry.example.com/team/churn:3")
    String image;

    @Option(names = "--to", paramLabel = "registry|docker|tar:FILE", defaultValue = "registry",
            description = "push to the registry (default), load into a Docker daemon, or write a tarball")
    String to;

    @Option(names = "--base-image", paramLabel = "REF|tar:FILE",
            description = "base image with a Java 21+ runtime (default: " + BaseImage.DEFAULT_REFERENCE + ")")
    String baseImage;

    @Option(names = "--insecure-registry", description = "allow registries over plain HTTP or with unverified certificates")
    boolean insecure;

    @Option(names = "--label", paramLabel = "K=V", description = "extra image label (repeatable)")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--include", paramLabel = "data,code,logs", defaultValue = "none",
            description = "also put the version's training data, code and/or logs into the image (default: none of them)")
    String include;

    @Option(names = "--k8s", paramLabel = "DIR", description = "also write Kubernetes and KServe manifests for the image into DIR")
    Path k8s;

    @Mixin
    ModelsOption models;

    @Option(names = "--work-dir", paramLabel = "DIR", hidden = true, description = "folder for Jib's layer caches")
    Path workDir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProgressPrinter progress = new ProgressPrinter(err, ProgressPrinter.stderrIsTerminal());
        try {
            ImagePackager.Builder builder = ImagePackager.builder()
                    .registry(models.registry())
                    .model(ModelRef.parse(model))
                    .image(image)
                    .server(ServingJars.locate())
                    .target(ImageTarget.parse(to))
                    .baseImage(BaseImage.parse(baseImage))
                    .allowInsecureRegistries(insecure)
                    .include(Content.parse(include))
                    .workDirectory(workDir != null ? workDir : defaultWorkDir())
                    .listener(progress);
            labels.forEach(builder::label);
            PackageResult result = builder.build().packageImage();
            progress.finish();
            out.println(summary(result));
            if (k8s != null) {
                KubernetesManifests manifests = KubernetesManifests.of(result);
                List<Path> files = manifests.write(k8s);
                files.forEach(f -> out.println("wrote " + f));
                if (!(result.target() instanceof ImageTarget.Registry)) {
                    // the local digest is not what a registry will hold after a load and a push
                    out.println("the manifests reference " + manifests.image() + " by tag; after pushing it, pin the digest"
                            + " the registry holds: skopeo inspect --format '{{.Digest}}' docker://" + result.image());
                }
            }
            out.println(result.digest());
            out.flush();
            return 0;
        } finally {
            // failures (PackagingException, registry errors) are mapped to one line and an exit code
            // by ErrorHandler; the progress line must be gone before that line is printed
            progress.finish();
        }
    }

    private static String summary(PackageResult r) {
        String where = switch (r.target()) {
            case ImageTarget.Registry reg -> "pushed " + r.image() + " (" + r.layersSent() + " blobs sent, "
                    + r.layersSkipped() + " already there, " + ProgressPrinter.bytes(r.bytesSent()) + ")";
            case ImageTarget.Docker d -> "loaded " + r.image() + " into the Docker daemon";
            case ImageTarget.Tar t -> "wrote " + r.image() + " to " + t.file();
        };
        return where + " serving " + r.modelName() + ":" + r.modelVersion();
    }

    /** Jib's caches live in the temp folder, not the home folder, and survive between runs to save pulls. */
    private static Path defaultWorkDir() {
        String env = System.getenv("BERTH_WORK_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "berth-jib-" + System.getProperty("user.name", "user"));
    }
}

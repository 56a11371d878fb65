package dev.berth.packager;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.DockerDaemonImage;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.buildplan.Port;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;
import dev.berth.registry.AliasTarget;
import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.ModelRef;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds an OCI image that serves one model version, with jib-core and without a Docker daemon.
 *
 * <p>Layers, from least to most often changing: the base image's, the third-party jars, berth's
 * own jars, and the model version. A new version of a model therefore changes only the last
 * layer, and a registry that holds the previous image receives only that layer again.
 *
 * <p>What the image runs is an input ({@link ServerJars}: the server's class path and main class),
 * so an image carries the jars serving needs and nothing a packaging command needs.
 *
 * <p>Image layout: the server's jars in {@value #APP_DIR}{@code /lib/};
 * ONNX Runtime's Linux natives in {@value #NATIVE_DIR}{@code /<platform>/};
 * the version at {@value #MODELS_DIR}{@code /<name>/<version>/} (model files, manifest,
 * artifacts) with a {@code model.json} beside it that keeps only what applies to that version;
 * the full manifest at {@value #MANIFEST_PATH} and the dependency manifest at
 * {@value #DEPENDENCIES_PATH}. The entrypoint runs the server's main class with the program arguments
 * {@code serve --models /models --host 0.0.0.0}, REST
 * on {@code PORT} (default {@value #DEFAULT_PORT}) and gRPC on {@code BERTH_GRPC_PORT} (default
 * {@value #DEFAULT_GRPC_PORT}) as user {@value #USER}.
 *
 * <p>The same version packaged by the same berth build gives the same image digest: the image's
 * creation time is the version's registration time and every file has a fixed timestamp.
 *
 * <p>Over 400 lines because of its {@link Builder}: a third of the file is the documented options of
 * one build, kept beside what they configure as jib-core keeps its builders. The steps live apart:
 * {@link ImageLayers} (what goes in), {@link RegistryProbe} and {@link DockerDaemon} (the checks
 * before a build), {@link JibFailures} (what a failure says).
 */
public final class ImagePackager {
    private static final System.Logger LOG = System.getLogger(ImagePackager.class.getName());

    /** Where berth's jars are in the image. */
    public static final String APP_DIR = "/app";
    /** ONNX Runtime's Linux natives in the image, one folder per platform ({@code linux-x64}, {@code linux-aarch64}). */
    public static final String NATIVE_DIR = APP_DIR + "/native";
    /** The registry folder the image serves. */
    public static final String MODELS_DIR = "/models";
    /**
     * Where the image's server writes its monitoring reports ({@code BERTH_REPORTS_DIR}): a folder
     * of its own, owned by {@link #USER}, that the generated manifests mount as an {@code emptyDir},
     * since the registry folder in the image belongs to root and a deployment makes it read-only.
     */
    public static final String REPORTS_DIR = "/var/lib/berth/reports";
    /** The environment variable {@code berth serve} reads its reports folder from. */
    public static final String REPORTS_ENV = "BERTH_REPORTS_DIR";
    /** The folder with the image's own metadata. */
    public static final String METADATA_DIR = "/berth";
    /** The packaged version's full manifest. */
    public static final String MANIFEST_PATH = METADATA_DIR + "/manifest.json";
    /** The dependency manifest ({@link DependencyManifest}). */
    public static final String DEPENDENCIES_PATH = METADATA_DIR + "/dependencies.json";
    /** The port the server listens on unless {@code PORT} says otherwise. */
    public static final int DEFAULT_PORT = 8080;
    /** The gRPC port unless {@code BERTH_GRPC_PORT} says otherwise (the server's own default, KServe's convention). */
    public static final int DEFAULT_GRPC_PORT = 8081;
    /** The environment variable {@code berth serve} reads its gRPC port from. */
    public static final String GRPC_PORT_ENV = "BERTH_GRPC_PORT";
    /** A numeric user and group, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd. */
    public static final String USER = "65532:65532";
    /** Where the server's jars are in the image. */
    public static final String LIB_DIR = APP_DIR + "/lib";

    private final LocalRegistry registry;
    private final ModelRef model;
    private final String image;
    private final ImageTarget target;
    private final BaseImage baseImage;
    private final boolean allowInsecureRegistries;
    private final Map<String, String> labels;
    private final Instant creationTime;
    private final ServerJars server;
    private final Path workDirectory;
    private final PackageListener listener;
    private final Duration connectTimeout;
    private final Set<Content> include;

    private ImagePackager(Builder b) {
        registry = b.registry;
        model = b.model;
        image = b.image;
        target = b.target;
        baseImage = b.baseImage;
        allowInsecureRegistries = b.allowInsecureRegistries;
        labels = Map.copyOf(b.labels);
        creationTime = b.creationTime;
        server = b.server;
        workDirectory = b.workDirectory;
        listener = b.listener;
        connectTimeout = b.connectTimeout;
        include = Set.copyOf(b.include);
    }

    /** Options for one image build. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds the image and delivers it to the target. Either the image is complete at the target
     * and its digest returned, or an exception says why not; a registry never gets a tag for a
     * partly pushed image, since the manifest is pushed last.
     *
     * @throws dev.berth.registry.ModelNotFoundException where the model, version or alias does not exist
     * @throws PackagingException                        for every other reason the image was not delivered
     */
    public PackageResult packageImage() {
        int version = registry.resolve(model);
        String name = model.name();
        refuseSplitAlias(name);
        ModelManifest manifest = registry.storedManifest(name, version).orElseGet(() -> synthesizedManifest(name, version));
        ModelInfo info = registry.info(name);
        ImageReference targetRef = parseImage(image);
        checkInputs(targetRef);

        Path scratch;
        try {
            Files.createDirectories(workDirectory);
            scratch = Files.createTempDirectory(workDirectory, "build-");
        } catch (IOException e) {
            throw new PackagingException("cannot create work folder in " + workDirectory + ": " + e.getMessage(), e);
        }
        try {
            return build(name, version, manifest, info, targetRef, scratch);
        } finally {
            deleteQuietly(scratch);
        }
    }

    /**
     * An image serves one version; an alias that splits traffic cannot be packaged as it is, and
     * packaging only its heavier version would silently drop the canary.
     */
    private void refuseSplitAlias(String name) {
        if (model.alias().isEmpty()) {
            return;
        }
        AliasTarget target = registry.info(name).alias(model.alias().get()).orElse(null);
        if (target == null || !target.isSplit()) {
            return;
        }
        String split = target.targets().stream().map(t -> "version " + t.version() + " weight " + t.weight())
                .collect(Collectors.joining(", "));
        String each = target.targets().stream().map(t -> name + ":" + t.version()).collect(Collectors.joining(" and "));
        throw new PackagingException.InvalidOptionException("alias '" + model.alias().get() + "' of '" + name + "' splits traffic ("
                + split + ") and an image serves one version: package " + each + " as images of their own and split"
                + " traffic between their deployments, or point the alias at one version");
    }

    private PackageResult build(String name, int version, ModelManifest manifest, ModelInfo info, ImageReference targetRef,
                                Path scratch) {
        Instant created = creationTime != null ? creationTime : manifest.created() != null ? manifest.created() : Instant.EPOCH;
        Map<String, String> imageLabels = ImageLabels.of(manifest, info, created, server, baseImage, labels);
        List<FileEntriesLayer> layers = new ImageLayers(registry, server, include, baseImage, workDirectory, listener)
                .layers(name, version, manifest, info, scratch);

        JibProgress progress = new JibProgress(listener, allowInsecureRegistries);
        JibContainerBuilder builder = switch (baseImage) {
            case BaseImage.Reference r -> Jib.from(withCredentials(parseImage(r.reference()), progress));
            case BaseImage.Tar t -> Jib.from(TarImage.at(t.file().toAbsolutePath()));
        };
        builder.setFileEntriesLayers(layers)
                .setEntrypoint(entrypoint(server.mainClass()))
                .setProgramArguments(programArguments())
                .setEnvironment(Map.of("PORT", Integer.toString(DEFAULT_PORT), GRPC_PORT_ENV, Integer.toString(DEFAULT_GRPC_PORT),
                        LocalRegistry.MODELS_ENV, MODELS_DIR, REPORTS_ENV, REPORTS_DIR,
                        // ONNX Runtime 1.29's Linux telemetry crashes a JVM whose command line passes ~4 KB
                        // (docs/native-safety.md); off in every image, whatever arguments a deployment adds
                        "ORT_DISABLE_TELEMETRY", "1"))
                .setExposedPorts(Set.of(Port.tcp(DEFAULT_PORT), Port.tcp(DEFAULT_GRPC_PORT)))
                .setUser(USER)
                .setWorkingDirectory(AbsoluteUnixPath.get(APP_DIR))
                .setLabels(imageLabels)
                .setCreationTime(created)
                // registries get an OCI manifest; a tarball is docker-archive, since Jib writes OCI as an
                // OCI layout that older 'docker load' versions refuse, and the daemon path loads docker-archive
                .setFormat(target instanceof ImageTarget.Registry ? ImageFormat.OCI : ImageFormat.Docker);

        // a tarball is written beside its final name and moved there only when complete
        Path partialTar = target instanceof ImageTarget.Tar t
                ? t.file().toAbsolutePath().resolveSibling("." + t.file().getFileName() + ".partial-" + scratch.getFileName())
                : null;
        Containerizer containerizer = containerizer(targetRef, progress, partialTar)
                .setAllowInsecureRegistries(allowInsecureRegistries)
                .setBaseImageLayersCache(workDirectory.resolve("base-cache"))
                .setApplicationLayersCache(workDirectory.resolve("app-cache"))
                .setToolName("berth")
                .setToolVersion(server.version())
                .addEventHandler(ProgressEvent.class, progress::onProgress)
                .addEventHandler(LogEvent.class, progress::onLog);
        listener.message("building " + image + " from " + baseImage + " for " + name + ":" + version);
        JibContainer container;
        try {
            container = builder.containerize(containerizer);
            if (partialTar != null) {
                Files.move(partialTar, ((ImageTarget.Tar) target).file().toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
            progress.buildSucceeded();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PackagingException("interrupted while building " + image, e);
        } catch (ExecutionException e) {
            throw JibFailures.translate(e.getCause() == null ? e : e.getCause(), targetRef, baseImage, target);
        } catch (RegistryException | IOException | CacheDirectoryCreationException | RuntimeException e) {
            throw JibFailures.translate(e, targetRef, baseImage, target);
        } finally {
            if (partialTar != null) {
                try {
                    Files.deleteIfExists(partialTar);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "could not delete " + partialTar, e);
                }
            }
        }
        long[] pushes = progress.pushTotals();
        return new PackageResult(image, container.getDigest().toString(), container.getImageId().toString(), target,
                name, version, imageLabels, (int) pushes[0], (int) pushes[1], pushes[2]);
    }

    /** A registry image with the credentials Docker's tools would use: config.json and the well-known helpers. */
    private static RegistryImage withCredentials(ImageReference ref, JibProgress progress) {
        CredentialRetrieverFactory credentials = CredentialRetrieverFactory.forImage(ref, progress::onLog);
        return RegistryImage.named(ref)
                .addCredentialRetriever(credentials.dockerConfig())
                .addCredentialRetriever(credentials.wellKnownCredentialHelpers());
    }

    private Containerizer containerizer(ImageReference targetRef, JibProgress progress, Path partialTar) {
        return switch (target) {
            case ImageTarget.Registry r -> Containerizer.to(withCredentials(targetRef, progress));
            case ImageTarget.Docker d -> Containerizer.to(DockerDaemonImage.named(targetRef));
            case ImageTarget.Tar t -> Containerizer.to(TarImage.at(partialTar).named(targetRef));
        };
    }

    /**
     * The server JVM's heap options: the heap sized from the container's memory limit (75 % of it; a
     * fixed {@code -Xmx} would ignore the limit a deployment sets), the process ended on the first
     * {@link OutOfMemoryError} so the orchestrator restarts it. {@code _JAVA_OPTIONS}, which the JVM
     * reads after the command line, overrides them; e.g. {@code -XX:+UseSerialGC -XX:MaxNewSize=32m}
     * for small tensors, which trades large-tensor throughput for less resident memory where the
     * default young generation is larger (docs/benchmarks.md, "Resident memory after load").
     */
    static final List<String> HEAP_OPTIONS = List.of("-XX:+ExitOnOutOfMemoryError", "-XX:MaxRAMPercentage=75");

    /** The java command; the server's arguments follow as program arguments so deployments can change them. */
    static List<String> entrypoint(String mainClass) {
        List<String> command = new ArrayList<>(List.of("java", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(HEAP_OPTIONS);
        command.addAll(List.of("-Donnxruntime.native.path=" + NATIVE_DIR, "-cp", LIB_DIR + "/*", mainClass));
        return List.copyOf(command);
    }

    static List<String> programArguments() {
        return List.of("serve", "--models", MODELS_DIR, "--host", "0.0.0.0");
    }

    /** Fails fast, before any layer is built, on what can be checked locally or with one connection. */
    private void checkInputs(ImageReference targetRef) {
        if (baseImage instanceof BaseImage.Tar t) {
            if (!Files.isRegularFile(t.file())) {
                throw new PackagingException.BaseImageNotFoundException("base image tarball " + t.file() + " does not exist", null);
            }
            if (!DockerArchive.hasManifest(t.file())) {
                throw new PackagingException.BaseImageNotFoundException("base image tarball " + t.file()
                        + " is not a docker-archive (no manifest.json; write one with 'docker save' or"
                        + " 'skopeo copy ... docker-archive:FILE', an OCI archive is not read)", null);
            }
        }
        if (baseImage instanceof BaseImage.Reference r) {
            try {
                RegistryProbe.requireReachable(parseImage(r.reference()).getRegistry(), allowInsecureRegistries, connectTimeout, "base image");
            } catch (PackagingException.RegistryUnreachableException e) {
                if (!e.getMessage().startsWith("cannot reach")) {
                    throw e; // reachable, but not over HTTPS: the offline hint would mislead
                }
                throw new PackagingException.RegistryUnreachableException(e.getMessage()
                        + "; offline, give --base-image tar:FILE (a docker-archive) or a reachable registry", e.getCause());
            }
        }
        switch (target) {
            case ImageTarget.Registry r ->
                    RegistryProbe.requireReachable(targetRef.getRegistry(), allowInsecureRegistries, connectTimeout, "target");
            case ImageTarget.Docker d -> {
                String problem = DockerDaemon.problem();
                if (problem != null) {
                    throw new PackagingException("--to docker needs a running Docker daemon: " + problem
                            + " (use --to tar:FILE and 'docker load' or 'podman load' instead)");
                }
            }
            case ImageTarget.Tar t -> {
                Path parent = t.file().toAbsolutePath().getParent();
                if (parent != null && !Files.isDirectory(parent)) {
                    throw new PackagingException.InvalidOptionException("folder " + parent + " for the tarball does not exist");
                }
            }
        }
    }

    /** A manifest for a version laid down without berth (a Triton-style folder with only model.onnx). */
    private ModelManifest synthesizedManifest(String name, int version) {
        Path file = registry.modelFile(name, version);
        try {
            FileEntry entry = new FileEntry(registry.versionDir(name, version).relativize(file).toString(), Files.size(file),
                    DependencyManifest.sha256(file));
            return new ModelManifest(null, name, version, Instant.EPOCH, null, null, null, List.of(entry), null,
                    null, null, null, null, null, null);
        } catch (IOException e) {
            throw new PackagingException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static ImageReference parseImage(String reference) {
        try {
            return ImageReference.parse(reference);
        } catch (InvalidImageReferenceException e) {
            throw new PackagingException.InvalidOptionException("'" + reference + "' is not a valid image reference");
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not delete " + dir, e);
        }
    }

    /** Options for one image build; {@link #build()} reports every missing one at once. */
    public static final class Builder {
        private LocalRegistry registry;
        private ModelRef model;
        private String image;
        private ImageTarget target = ImageTarget.registry();
        private BaseImage baseImage = BaseImage.defaultImage();
        private boolean allowInsecureRegistries;
        private final Map<String, String> labels = new LinkedHashMap<>();
        private Instant creationTime;
        private ServerJars server;
        private Path workDirectory;
        private PackageListener listener = PackageListener.NONE;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Set<Content> include = Content.DEFAULT;

        private Builder() {
        }

        /** The registry that holds the model. Required. */
        public Builder registry(LocalRegistry value) {
            registry = value;
            return this;
        }

        /** The model version to package: {@code NAME}, {@code NAME:VERSION} or {@code NAME@ALIAS}. Required. */
        public Builder model(ModelRef value) {
            model = value;
            return this;
        }

        /** The image reference to build, for example {@code registry.example.com/team/churn:3}. Required. */
        public Builder image(String value) {
            image = value;
            return this;
        }

        /** Where the image goes; a registry by default. */
        public Builder target(ImageTarget value) {
            target = Objects.requireNonNull(value, "target");
            return this;
        }

        /** The base image; {@link BaseImage#DEFAULT_REFERENCE} by default. */
        public Builder baseImage(BaseImage value) {
            baseImage = Objects.requireNonNull(value, "baseImage");
            return this;
        }

        /**
         * Which of the version's training data, code and logs go into the image; {@link Content#DEFAULT}
         * (none: an image serves, and data can be large or sensitive) unless set. The model, manifest,
         * signature, metrics and the other artifacts always go in.
         */
        public Builder include(Set<Content> kinds) {
            include = Set.copyOf(Objects.requireNonNull(kinds, "include"));
            return this;
        }

        /** Allows registries that answer over plain HTTP or with a certificate that does not verify. */
        public Builder allowInsecureRegistries(boolean value) {
            allowInsecureRegistries = value;
            return this;
        }

        /** Adds an image label; it overrides a label berth sets itself. */
        public Builder label(String key, String value) {
            if (key == null || key.isBlank()) {
                throw new PackagingException.InvalidOptionException("a label needs a key");
            }
            labels.put(key, Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The image's creation time; by default the version's registration time, so rebuilds are identical. */
        public Builder creationTime(Instant value) {
            creationTime = value;
            return this;
        }

        /** What the image runs: the server's class path and main class. Required. */
        public Builder server(ServerJars value) {
            server = value;
            return this;
        }

        /** The folder for Jib's layer caches and temporary files; by default {@code <tmpdir>/berth-jib}. */
        public Builder workDirectory(Path value) {
            workDirectory = value;
            return this;
        }

        /** Receives progress and messages. */
        public Builder listener(PackageListener value) {
            listener = Objects.requireNonNull(value, "listener");
            return this;
        }

        /** How long to wait for a registry to accept a connection before giving up; 5 s by default. */
        public Builder connectTimeout(Duration value) {
            connectTimeout = Objects.requireNonNull(value, "connectTimeout");
            return this;
        }

        /**
         * Checks the options (reporting every missing one at once) and returns the packager.
         *
         * @throws IllegalStateException                     when registry, model, image or server is missing
         * @throws PackagingException.InvalidOptionException when the image reference is malformed
         */
        public ImagePackager build() {
            List<String> missing = new ArrayList<>();
            if (registry == null) {
                missing.add("registry");
            }
            if (model == null) {
                missing.add("model");
            }
            if (image == null || image.isBlank()) {
                missing.add("image");
            }
            if (server == null) {
                missing.add("server");
            }
            if (!missing.isEmpty()) {
                throw new IllegalStateException("ImagePackager needs " + String.join(", ", missing));
            }
            parseImage(image);
            if (workDirectory == null) {
                workDirectory = Path.of(System.getProperty("java.io.tmpdir"), "berth-jib-" + System.getProperty("user.name", "user"));
            }
            return new ImagePackager(this);
        }
    }
}

package dev.berth.packager;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.DockerDaemonImage;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InsecureRegistryException;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
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
import dev.berth.registry.RegistryJson;
import dev.berth.registry.VersionPolicy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        List<FileEntriesLayer> layers = layers(name, version, manifest, info, scratch);

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
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PackagingException("interrupted while building " + image, e);
        } catch (ExecutionException e) {
            throw translate(e.getCause() == null ? e : e.getCause(), targetRef);
        } catch (RegistryException | IOException | CacheDirectoryCreationException | RuntimeException e) {
            throw translate(e, targetRef);
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

    /** The java command; the server's arguments follow as program arguments so deployments can change them. */
    static List<String> entrypoint(String mainClass) {
        return List.of("java", "--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError",
                "-XX:MaxRAMPercentage=75", "-Donnxruntime.native.path=" + NATIVE_DIR,
                "-cp", LIB_DIR + "/*", mainClass);
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
                String problem = dockerProblem();
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

    private List<FileEntriesLayer> layers(String name, int version, ModelManifest manifest, ModelInfo info, Path scratch) {
        AbsoluteUnixPath lib = AbsoluteUnixPath.get(LIB_DIR);
        FileEntriesLayer.Builder thirdParty = FileEntriesLayer.builder().setName("dependencies");
        Map<Path, String> jarPaths = new LinkedHashMap<>();
        for (Path jar : server.thirdPartyJars()) {
            AbsoluteUnixPath at = lib.resolve(jar.getFileName().toString());
            Path source = jar;
            if (OnnxRuntimeJar.isOnnxRuntime(jar)) {
                try {
                    source = OnnxRuntimeJar.withoutNatives(jar, workDirectory.resolve("trimmed-jars"));
                    // the Linux natives as files, loaded in place: no copy into a temp folder per start
                    Path natives = OnnxRuntimeJar.linuxNatives(jar, workDirectory.resolve("trimmed-jars"));
                    AbsoluteUnixPath nativeDir = AbsoluteUnixPath.get(NATIVE_DIR);
                    for (Path file : OnnxRuntimeJar.files(natives)) {
                        thirdParty.addEntry(file, nativeDir.resolve(natives.relativize(file).toString().replace('\\', '/')));
                    }
                } catch (IOException e) {
                    throw new PackagingException("cannot copy " + jar.getFileName() + " with its Linux natives as files: "
                            + e.getMessage(), e);
                }
            }
            thirdParty.addEntry(source, at);
            jarPaths.put(source, at.toString());
        }
        FileEntriesLayer.Builder own = FileEntriesLayer.builder().setName("berth");
        for (Path jar : server.berthJars()) {
            AbsoluteUnixPath at = lib.resolve(jar.getFileName().toString());
            own.addEntry(jar, at);
            jarPaths.put(jar, at.toString());
        }

        FileEntriesLayer.Builder modelLayer = FileEntriesLayer.builder().setName("model");
        AbsoluteUnixPath versionAt = AbsoluteUnixPath.get(MODELS_DIR).resolve(name).resolve(Integer.toString(version));
        Path versionDir = registry.versionDir(name, version);
        Map<Content, List<Path>> leftOut = new EnumMap<>(Content.class);
        for (Path file : versionFiles(versionDir)) {
            Content kind = Content.of(versionDir.relativize(file));
            if (kind != null && !include.contains(kind)) {
                leftOut.computeIfAbsent(kind, k -> new ArrayList<>()).add(file);
                continue;
            }
            modelLayer.addEntry(file, versionAt.resolve(versionDir.relativize(file).toString().replace('\\', '/')));
        }
        listener.message(Content.describe(include, leftOut));
        try {
            // writable by anyone (as /tmp): a container runtime that copies the image folder onto the volume
            // mounted there (podman's tmpfs copy-up) keeps its mode, whatever user the deployment picks
            Path reports = Files.createDirectories(scratch.resolve("reports"));
            // Jib's FileEntry, named in full: the registry's FileEntry is imported
            modelLayer.addEntry(new com.google.cloud.tools.jib.api.buildplan.FileEntry(reports, AbsoluteUnixPath.get(REPORTS_DIR),
                    FilePermissions.fromOctalString("777"),
                    FileEntriesLayer.DEFAULT_MODIFICATION_TIME, USER));
            modelLayer.addEntry(writeJson(scratch.resolve("model.json"), imageModelInfo(info, version)),
                    AbsoluteUnixPath.get(MODELS_DIR).resolve(name).resolve(LocalRegistry.MODEL_INFO_FILE));

            Path stored = versionDir.resolve(LocalRegistry.MANIFEST_FILE);
            // the registered manifest byte for byte where there is one; else the one synthesized from the model file
            Path manifestFile = Files.isRegularFile(stored) ? Files.copy(stored, scratch.resolve("manifest.json"))
                    : writeJson(scratch.resolve("manifest.json"), manifest);
            modelLayer.addEntry(manifestFile, AbsoluteUnixPath.get(MANIFEST_PATH));

            modelLayer.addEntry(writeJson(scratch.resolve("dependencies.json"),
                    DependencyManifest.of(manifest, server, baseImage, jarPaths)), AbsoluteUnixPath.get(DEPENDENCIES_PATH));
        } catch (IOException e) {
            throw new PackagingException("cannot write image metadata in " + scratch + ": " + e.getMessage(), e);
        }
        return List.of(thirdParty.build(), own.build(), modelLayer.build());
    }

    private static Path writeJson(Path file, Object value) throws IOException {
        return Files.write(file, RegistryJson.mapper().writeValueAsBytes(value));
    }

    /**
     * The model's information as the image should see it: the description and serving
     * configuration, and only aliases that point solely at the packaged version (the image holds no other).
     */
    static ModelInfo imageModelInfo(ModelInfo info, int version) {
        Map<String, AliasTarget> aliases = new TreeMap<>();
        info.aliases().forEach((alias, target) -> {
            if (!target.isSplit() && target.primaryVersion() == version) {
                aliases.put(alias, target);
            }
        });
        return new ModelInfo(info.name(), info.description(), aliases, VersionPolicy.all(), info.serving());
    }

    /**
     * The files of a version folder that belong in the image: everything but work in progress
     * (dot names) and monitoring reports, which a running server adds later and which would make
     * the image differ between two packagings of the same version.
     */
    static List<Path> versionFiles(Path versionDir) {
        try (Stream<Path> walk = Files.walk(versionDir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        Path rel = versionDir.relativize(p);
                        for (Path part : rel) {
                            if (part.toString().startsWith(".")) {
                                return false;
                            }
                        }
                        return !rel.getName(0).toString().equals(LocalRegistry.MONITORING_DIR);
                    })
                    .sorted(Comparator.comparing(Path::toString))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + versionDir, e);
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

    /** Maps what Jib throws to one line that says which part failed. */
    private PackagingException translate(Throwable e, ImageReference targetRef) {
        LOG.log(System.Logger.Level.DEBUG, "image build failed", e);
        String message = firstLine(e.getMessage());
        String targetName = targetRef.getRegistry() + "/" + targetRef.getRepository();
        String base = baseImage instanceof BaseImage.Reference r ? r.reference() : null;
        if (e instanceof InsecureRegistryException) {
            return new PackagingException.RegistryUnreachableException("registry does not speak HTTPS (" + message
                    + "); pass --insecure-registry for a plain-HTTP registry you trust", e);
        }
        if (e instanceof RegistryUnauthorizedException u) {
            if (u.getImageReference().contains(targetRef.getRepository()) && target instanceof ImageTarget.Registry) {
                return new PackagingException.PushRejectedException("push to " + targetName + " rejected: not authorized", e);
            }
            return new PackagingException.BaseImageNotFoundException("cannot pull base image " + baseImage
                    + ": not authorized (or it does not exist)", e);
        }
        if (e instanceof RegistryException) {
            String lower = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (base != null && lower.contains("pull") && !lower.contains("push")) {
                return new PackagingException.BaseImageNotFoundException("cannot pull base image " + base + ": " + message, e);
            }
            if (target instanceof ImageTarget.Registry) {
                return new PackagingException.PushRejectedException("push to " + targetName + " rejected: " + message, e);
            }
            return new PackagingException("registry error: " + message, e);
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof ConnectException || root instanceof UnknownHostException || root instanceof NoRouteToHostException
                || root instanceof SocketTimeoutException) {
            return new PackagingException.RegistryUnreachableException("lost the connection to a registry: "
                    + firstLine(root.getMessage()), e);
        }
        if (baseImage instanceof BaseImage.Tar t && message.contains(t.file().getFileName().toString())) {
            return new PackagingException.BaseImageNotFoundException("cannot read base image tarball " + t.file()
                    + " (it must be a docker-archive, as 'docker save' writes it): " + message, e);
        }
        return new PackagingException("image build failed: " + e.getClass().getSimpleName() + ": " + message, e);
    }

    private static final Pattern REGISTRY_ERROR =
            Pattern.compile("\"code\"\\s*:\\s*\"([^\"]+)\"(?:.*?\"message\"\\s*:\\s*\"([^\"]*)\")?", Pattern.DOTALL);

    /**
     * One line from a Jib message: without its "Tried to ... but failed because:" preamble and its
     * generic hints, with the registry's own error code and message where it sent one.
     */
    static String firstLine(String message) {
        if (message == null || message.isBlank()) {
            return "no details";
        }
        String text = message.strip();
        String detail = "";
        int body = text.indexOf("Actual error output follows:");
        if (body >= 0) {
            Matcher m = REGISTRY_ERROR.matcher(text.substring(body));
            if (m.find()) {
                detail = " (" + m.group(1) + (m.group(2) == null || m.group(2).isBlank() ? "" : ": " + m.group(2)) + ")";
            }
            text = text.substring(0, body);
        }
        text = text.replaceFirst("(?s)^Tried to .*? but failed because: ", "");
        text = text.replaceFirst("(?s);\\s*possible causes include.*$", "");
        int nl = text.indexOf('\n');
        text = (nl < 0 ? text : text.substring(0, nl)).strip();
        return text + detail;
    }

    /**
     * Why {@code --to docker} cannot work here, or null when a daemon answers. Jib would otherwise
     * fail only after building every layer, with the docker command's raw output.
     */
    static String dockerProblem() {
        Path docker = findOnPath("docker");
        if (docker == null) {
            return "no 'docker' command on the PATH";
        }
        try {
            Process p = new ProcessBuilder(docker.toString(), "version", "--format", "{{.Server.Version}}")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "'docker version' did not answer within 10 s";
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (p.exitValue() == 0) {
                return null;
            }
            String text = new String(out, StandardCharsets.UTF_8);
            return text.lines().filter(l -> l.contains("daemon") || l.contains("Cannot connect") || l.startsWith("error"))
                    .findFirst().orElse("'docker version' failed").strip();
        } catch (IOException e) {
            return "cannot run docker: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static Path findOnPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
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

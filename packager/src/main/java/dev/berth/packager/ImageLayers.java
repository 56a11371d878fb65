package dev.berth.packager;

import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FileEntry;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import dev.berth.registry.AliasTarget;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.VersionPolicy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The layers {@link ImagePackager} adds to the base image, from least to most often changing: the
 * server's third-party jars (ONNX Runtime's with its Linux natives as files), the server's berth
 * jars, and the model version with the image's metadata.
 */
final class ImageLayers {
    private final LocalRegistry registry;
    private final ServerJars server;
    private final Set<Content> include;
    private final BaseImage baseImage;
    private final Path workDirectory;
    private final PackageListener listener;

    ImageLayers(LocalRegistry registry, ServerJars server, Set<Content> include, BaseImage baseImage, Path workDirectory,
                PackageListener listener) {
        this.registry = registry;
        this.server = server;
        this.include = include;
        this.baseImage = baseImage;
        this.workDirectory = workDirectory;
        this.listener = listener;
    }

    /** The three layers for version {@code version} of {@code name}; {@code scratch} holds the files written for the image. */
    List<FileEntriesLayer> layers(String name, int version, ModelManifest manifest, ModelInfo info, Path scratch) {
        AbsoluteUnixPath lib = AbsoluteUnixPath.get(ImagePackager.LIB_DIR);
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
                    AbsoluteUnixPath nativeDir = AbsoluteUnixPath.get(ImagePackager.NATIVE_DIR);
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
        AbsoluteUnixPath versionAt = AbsoluteUnixPath.get(ImagePackager.MODELS_DIR).resolve(name).resolve(Integer.toString(version));
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
            modelLayer.addEntry(new FileEntry(reports, AbsoluteUnixPath.get(ImagePackager.REPORTS_DIR),
                    FilePermissions.fromOctalString("777"),
                    FileEntriesLayer.DEFAULT_MODIFICATION_TIME, ImagePackager.USER));
            modelLayer.addEntry(writeJson(scratch.resolve("model.json"), imageModelInfo(info, version)),
                    AbsoluteUnixPath.get(ImagePackager.MODELS_DIR).resolve(name).resolve(LocalRegistry.MODEL_INFO_FILE));

            Path stored = versionDir.resolve(LocalRegistry.MANIFEST_FILE);
            // the registered manifest byte for byte where there is one; else the one synthesized from the model file
            Path manifestFile = Files.isRegularFile(stored) ? Files.copy(stored, scratch.resolve("manifest.json"))
                    : writeJson(scratch.resolve("manifest.json"), manifest);
            modelLayer.addEntry(manifestFile, AbsoluteUnixPath.get(ImagePackager.MANIFEST_PATH));

            modelLayer.addEntry(writeJson(scratch.resolve("dependencies.json"),
                    DependencyManifest.of(manifest, server, baseImage, jarPaths)), AbsoluteUnixPath.get(ImagePackager.DEPENDENCIES_PATH));
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

}

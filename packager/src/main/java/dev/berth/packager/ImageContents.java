package dev.berth.packager;

import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a serving image built by {@code berth package} says about the model version it carries, read
 * back from the image's own layers (not from its labels alone): the version's manifest as packaged,
 * the dependency manifest, the image labels, and the sha256 and size of every file under
 * {@code /models/<name>/<version>/} as the image holds it.
 *
 * @param source       where the image was read from (a tarball path or a registry reference)
 * @param imageDigest  the image manifest's digest where the source names one (a registry), else null
 * @param labels       the image configuration's labels
 * @param manifest     the packaged version's manifest ({@value ImagePackager#MANIFEST_PATH})
 * @param manifestJson its bytes as stored in the image
 * @param dependencies the dependency manifest's JSON ({@value ImagePackager#DEPENDENCIES_PATH}), or null
 * @param files        every file of the version folder in the image: path relative to the folder -> digest and size
 */
public record ImageContents(String source, String imageDigest, Map<String, String> labels, ModelManifest manifest, byte[] manifestJson,
                            String dependencies, Map<String, FileEntry> files) {
    public ImageContents {
        labels = Map.copyOf(labels);
        files = Map.copyOf(new TreeMap<>(files));
    }

    /**
     * One file's check: the digest the packaged manifest records against the bytes in the image.
     *
     * @param leftOut the kind of content {@code --include} leaves out by choice, for a listed file the image does not hold
     */
    public record FileCheck(String path, String recorded, String inImage, Long size, Content leftOut) {
        /** Whether the image holds the file with the recorded digest, or left it out by choice. */
        public boolean ok() {
            return recorded != null && (recorded.equals(inImage) || (inImage == null && leftOut != null));
        }

        /** One word for a table: ok, left out (data), missing, changed, or not listed. */
        public String state() {
            if (recorded == null) {
                return "not listed";
            }
            if (inImage == null) {
                return leftOut != null ? "left out (" + leftOut.name().toLowerCase(Locale.ROOT) + ")" : "MISSING";
            }
            return recorded.equals(inImage) ? "ok" : "CHANGED";
        }
    }

    /**
     * Every file the packaged manifest lists, checked against the image's bytes, then the files the
     * image carries that the manifest does not list (recorded is null for those).
     */
    public List<FileCheck> checks() {
        List<FileCheck> out = new ArrayList<>();
        Map<String, FileEntry> unlisted = new TreeMap<>(files);
        for (FileEntry listed : manifest.storedFiles()) {
            FileEntry held = unlisted.remove(listed.path());
            out.add(new FileCheck(listed.path(), listed.sha256(), held == null ? null : held.sha256(), held == null ? null : held.size(),
                    held == null ? Content.of(Path.of(listed.path())) : null));
        }
        unlisted.remove(LocalRegistry.MANIFEST_FILE);
        for (FileEntry extra : unlisted.values()) {
            out.add(new FileCheck(extra.path(), null, extra.sha256(), extra.size(), null));
        }
        return out;
    }
}

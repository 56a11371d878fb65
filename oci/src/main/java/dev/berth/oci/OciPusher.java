package dev.berth.oci;

import dev.berth.registry.FileEntry;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.RegistryException;
import dev.berth.registry.VerifyReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pushes one local version as an OCI artifact: re-hashes it first (a changed file is not
 * published), uploads the config and each layer the repository does not hold yet, then tags the
 * manifest with the version number.
 */
public final class OciPusher {
    private OciPusher() {
    }

    /**
     * What a push did.
     *
     * @param reference     where the version now is ({@code REGISTRY/REPOSITORY:VERSION})
     * @param digest        the manifest digest
     * @param uploaded      layers and config sent
     * @param skipped       blobs the repository already held
     * @param uploadedBytes bytes sent
     */
    public record Result(OciReference reference, String digest, int uploaded, int skipped, long uploadedBytes) {
    }

    /**
     * Pushes {@code name:version} to {@code target} (a repository; its tag, when given, must be the version number).
     *
     * @throws InvalidArgumentException when the target names another tag or a digest, or the version has no manifest.json
     * @throws RegistryException        when the local files no longer match their hashes
     */
    public static Result push(LocalRegistry local, String name, int version, OciReference target, OciClient client, TransferListener listener) {
        if (target.digest() != null) {
            throw new InvalidArgumentException("push to a tag, not a digest: " + target);
        }
        if (target.tag() != null && !target.tag().equals(Integer.toString(version))) {
            throw new InvalidArgumentException("a version is tagged with its number: push " + name + ":" + version + " to "
                    + target.withTag(Integer.toString(version)) + " (or without a tag); aliases are tags moved with 'berth alias "
                    + target.repositoryOnly() + " ALIAS VERSION'");
        }
        local.requireVersion(name, version);
        ModelManifest manifest = local.storedManifest(name, version).orElseThrow(() -> new InvalidArgumentException(
                name + ":" + version + " has no manifest.json (laid down without berth); register it with berth register first"));
        VerifyReport report = local.verify(name, version);
        if (!report.ok()) {
            throw new RegistryException(name + ":" + version + " does not match its manifest (" + report.problems().size()
                    + " changed or missing files; see berth verify " + name + ":" + version + "); not pushed");
        }
        Path dir = local.versionDir(name, version);
        String repo = target.repository();
        try {
            byte[] config = Files.readAllBytes(dir.resolve(LocalRegistry.MANIFEST_FILE));
            int uploaded = 0;
            int skipped = 0;
            long bytes = 0;
            List<OciLayout.Layer> layers = new ArrayList<>();
            for (FileEntry f : manifest.storedFiles()) {
                Path file = dir.resolve(f.path());
                long size = Files.size(file);
                OciLayout.Layer layer = new OciLayout.Layer(f, size);
                layers.add(layer);
                if (client.hasBlob(repo, layer.digest())) {
                    skipped++;
                    listener.done(f.path(), size, true);
                } else {
                    client.uploadBlob(repo, layer.digest(), file, n -> listener.progress(f.path(), n, size));
                    uploaded++;
                    bytes += size;
                    listener.done(f.path(), size, false);
                }
            }
            String configDigest = OciClient.digest(config);
            if (client.hasBlob(repo, configDigest)) {
                skipped++;
            } else {
                client.uploadBlob(repo, configDigest, config);
                uploaded++;
                bytes += config.length;
            }
            listener.done(LocalRegistry.MANIFEST_FILE, config.length, false);
            byte[] image = OciLayout.imageManifest(manifest, config, layers);
            OciReference tagged = target.withTag(Integer.toString(version));
            String digest = client.putManifest(repo, tagged.tag(), OciClient.OCI_MANIFEST, image);
            return new Result(tagged, digest, uploaded, skipped, bytes);
        } catch (IOException e) {
            throw new RegistryException("cannot read " + name + ":" + version + ": " + e.getMessage(), e);
        }
    }
}

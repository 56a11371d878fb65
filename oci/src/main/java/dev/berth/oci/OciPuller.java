package dev.berth.oci;

import dev.berth.registry.LocalRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Pulls one version into a local registry: the manifest and config are checked, every layer is
 * hashed as it arrives and again when staged, and the version appears under its own number in one
 * atomic rename ({@link LocalRegistry#importVersion}). Blobs can come through a content-addressed
 * {@link BlobCache}, so versions that share data fetch it once.
 */
public final class OciPuller {
    private OciPuller() {
    }

    /**
     * What a pull did.
     *
     * @param name     model name
     * @param version  version number
     * @param digest   manifest digest
     * @param imported false when the same version was already there
     * @param alias    the alias tag pulled by, set locally; empty when pulled by number or digest
     */
    public record Result(String name, int version, String digest, boolean imported, Optional<String> alias) {
    }

    /**
     * Pulls {@code ref} (a version tag, an alias tag, a digest, or none: {@code production}, else the highest version).
     *
     * @param cache where blobs are kept and looked up first; null to download straight into the staging folder
     */
    public static Result pull(OciClient client, OciReference ref, LocalRegistry local, BlobCache cache, TransferListener listener) {
        RemoteRepository repo = RemoteRepository.of(client, ref);
        String reference = ref.reference().orElseGet(repo::defaultReference);
        RemoteRepository.RemoteVersion remote = repo.version(reference);
        Optional<String> alias = !reference.startsWith("sha256:") && RemoteRepository.isAliasTag(reference)
                ? Optional.of(reference) : Optional.empty();
        LocalRegistry.ImportResult result = local.importVersion(remote.config(), (entry, target) -> {
            String digest = "sha256:" + entry.sha256().toLowerCase(Locale.ROOT);
            long size = remote.manifest().layers().stream().filter(l -> l.title().equals(entry.path())).mapToLong(OciLayout.RemoteLayer::size)
                    .findFirst().orElse(-1);
            fetch(client, ref.repository(), digest, size, entry.path(), target, cache, listener);
        }, alias.map(List::of).orElse(List.of()));
        return new Result(remote.version().name(), remote.version().version(), remote.manifest().digest(), result.imported(), alias);
    }

    private static void fetch(OciClient client, String repository, String digest, long size, String path, Path target,
                              BlobCache cache, TransferListener listener) throws IOException {
        if (cache == null) {
            client.downloadBlob(repository, digest, target, n -> listener.progress(path, n, size));
            listener.done(path, size, false);
            return;
        }
        boolean had = cache.contains(digest);
        Path blob = cache.get(digest, tmp -> client.downloadBlob(repository, digest, tmp, n -> listener.progress(path, n, size)));
        try {
            Files.createLink(target, blob);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING); // another file system, or no hard links
        }
        listener.done(path, size, had);
    }
}

package dev.berth.packager;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Tarballs as images come in them: a docker-archive (what {@code docker save} writes), recognised by
 * its top-level {@code manifest.json} so that a wrong kind of tarball fails with one clear line
 * before Jib unpacks it, and layers, plain or gzip-compressed.
 */
final class DockerArchive {
    private DockerArchive() {
    }

    /** Whether {@code tar} is a (possibly gzip-compressed) tarball with a top-level {@code manifest.json}. */
    static boolean hasManifest(Path tar) {
        try (TarArchiveInputStream in = tar(Files.newInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().replaceFirst("^\\./", "").equals("manifest.json")) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false; // not a tarball at all: the caller says what it expected
        }
    }

    /**
     * The tar entries of {@code raw}, gunzipped where it starts with gzip's magic bytes. zstd is not
     * read: berth's images do not use it, and such a stream fails as "not a tar".
     */
    static TarArchiveInputStream tar(InputStream raw) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw);
        buffered.mark(2);
        boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
        buffered.reset();
        return new TarArchiveInputStream(gzip ? new GZIPInputStream(buffered) : buffered);
    }
}

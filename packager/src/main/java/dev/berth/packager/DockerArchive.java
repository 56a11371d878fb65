package dev.berth.packager;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Recognises a docker-archive tarball (what {@code docker save} writes) by its top-level
 * {@code manifest.json}, so that a wrong kind of tarball fails with one clear line before Jib
 * unpacks it. Reads only tar headers, skipping file contents.
 */
final class DockerArchive {
    private static final int BLOCK = 512;

    private DockerArchive() {
    }

    static boolean hasManifest(Path tar) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(tar))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            try (InputStream in = gzip ? new GZIPInputStream(raw) : raw) {
                byte[] header = new byte[BLOCK];
                while (in.readNBytes(header, 0, BLOCK) == BLOCK) {
                    if (header[0] == 0) {
                        return false;
                    }
                    String name = field(header, 0, 100);
                    String prefix = field(header, 345, 155);
                    String full = (prefix.isEmpty() ? name : prefix + "/" + name).replaceFirst("^\\./", "");
                    if (full.equals("manifest.json")) {
                        return true;
                    }
                    String octal = field(header, 124, 12).trim();
                    long size = octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
                    long skip = (size + BLOCK - 1) / BLOCK * BLOCK;
                    in.skipNBytes(skip);
                }
                return false;
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static String field(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
    }
}

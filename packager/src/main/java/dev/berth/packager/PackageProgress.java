package dev.berth.packager;

/**
 * A snapshot of an image build.
 *
 * @param fraction    overall completion, 0 to 1, as Jib estimates it
 * @param phase       what is running now, for example {@code pushing} or {@code pulling base image}
 * @param layersDone  layers (blobs) transferred or found already present
 * @param layersTotal layers (blobs) known so far
 * @param bytesDone   bytes transferred so far (pulls, pushes, tar writes)
 * @param bytesTotal  bytes of the transfers known so far
 */
public record PackageProgress(double fraction, String phase, int layersDone, int layersTotal, long bytesDone, long bytesTotal) {
}

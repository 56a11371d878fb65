package dev.berth.packager;

import java.util.Map;

/**
 * What {@link ImagePackager#packageImage()} produced.
 *
 * @param image            the image reference as given (repository and tag)
 * @param digest           the image manifest's digest, {@code sha256:...}; the same build of the same version gives the same digest
 * @param imageId          the image's config digest (what {@code docker images} shows as the ID)
 * @param target           where the image went
 * @param modelName        the packaged model
 * @param modelVersion     the packaged version
 * @param labels           the labels set on the image
 * @param layersSent       blobs (layers and the image config) pushed to a registry; a blob the registry already
 *                         holds is not sent again. 0 for other targets
 * @param layersSkipped    blobs the registry already had
 * @param bytesSent        bytes of the blobs pushed
 */
public record PackageResult(String image, String digest, String imageId, ImageTarget target, String modelName,
                            int modelVersion, Map<String, String> labels, int layersSent, int layersSkipped, long bytesSent) {
    public PackageResult {
        labels = Map.copyOf(labels);
    }

    /** The image pinned by digest, {@code repository@sha256:...}, as deployments should reference it. */
    public String imageByDigest() {
        String repository = image;
        int at = repository.indexOf('@');
        if (at >= 0) {
            repository = repository.substring(0, at);
        }
        int slash = repository.lastIndexOf('/');
        int colon = repository.lastIndexOf(':');
        if (colon > slash) {
            repository = repository.substring(0, colon);
        }
        return repository + "@" + digest;
    }
}

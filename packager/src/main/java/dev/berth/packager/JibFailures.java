package dev.berth.packager;

import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InsecureRegistryException;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What Jib throws, as one {@link PackagingException} whose line says which part of a build failed. */
final class JibFailures {
    private static final System.Logger LOG = System.getLogger(JibFailures.class.getName());

    private JibFailures() {
    }

    /** Maps what Jib throws to one line that says which part failed. */
    static PackagingException translate(Throwable e, ImageReference targetRef, BaseImage baseImage, ImageTarget target) {
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
}

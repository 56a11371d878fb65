package dev.berth.packager;

/**
 * Why an image could not be built or delivered. The message is one line meant for the person
 * running {@code berth package}; subtypes say which part failed so callers can map them.
 */
public class PackagingException extends RuntimeException {
    public PackagingException(String message) {
        super(message);
    }

    public PackagingException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A registry (target or base image) could not be reached at all. */
    public static final class RegistryUnreachableException extends PackagingException {
        public RegistryUnreachableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The target registry answered but refused the image (authentication, read-only, quota...). */
    public static final class PushRejectedException extends PackagingException {
        public PushRejectedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The base image does not exist where it was said to be. */
    public static final class BaseImageNotFoundException extends PackagingException {
        public BaseImageNotFoundException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A bad option value (image reference, target, label). */
    public static final class InvalidOptionException extends PackagingException {
        public InvalidOptionException(String message) {
            super(message);
        }
    }
}

package dev.berth.oci;

/** Bytes from the registry do not hash to the digest they were asked for by: nothing is kept. */
public final class DigestMismatchException extends OciException {
    DigestMismatchException(String what, String expected, String actual) {
        super(what + " does not match its digest: expected " + expected + ", got " + actual + "; refused");
    }
}

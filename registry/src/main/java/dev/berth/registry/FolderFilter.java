package dev.berth.registry;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Which files of a folder a registration keeps. Every regular file is kept except hidden ones
 * (a file or folder whose name starts with {@code .}) and those an exclude glob matches, in the
 * way {@code .gitignore} reads a pattern: one without a {@code /} ({@code *.pt}, {@code checkpoints})
 * matches a file or folder name at any depth; one with a {@code /} ({@code logs/*.txt},
 * {@code runs/**}) matches the path relative to the folder. A folder that matches leaves out
 * everything under it.
 */
public final class FolderFilter {
    private final List<String> globs;
    private final List<PathMatcher> nameMatchers = new ArrayList<>();
    private final List<PathMatcher> pathMatchers = new ArrayList<>();

    private FolderFilter(List<String> globs) {
        this.globs = List.copyOf(globs);
        for (String glob : this.globs) {
            if (glob == null || glob.isBlank()) {
                throw new InvalidArgumentException("--exclude needs a glob such as '*.pt' or 'checkpoints/**'");
            }
            String g = glob.startsWith("/") ? glob.substring(1) : glob;
            try {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + g);
                (g.contains("/") ? pathMatchers : nameMatchers).add(m);
            } catch (IllegalArgumentException e) {
                throw new InvalidArgumentException("--exclude '" + glob + "' is not a valid glob: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }

    /** A filter leaving out what {@code excludeGlobs} match (and hidden files). */
    public static FolderFilter of(List<String> excludeGlobs) {
        return new FolderFilter(excludeGlobs == null ? List.of() : excludeGlobs);
    }

    /** Whether a {@code /}-separated path relative to the folder is left out. */
    public boolean excludes(String relative) {
        Path rel = Path.of(relative);
        for (int i = 0; i < rel.getNameCount(); i++) {
            Path segment = rel.getName(i);
            if (segment.toString().startsWith(".")) {
                return true;
            }
            for (PathMatcher m : nameMatchers) {
                if (m.matches(segment)) {
                    return true;
                }
            }
            Path prefix = rel.subpath(0, i + 1);
            for (PathMatcher m : pathMatchers) {
                if (m.matches(prefix)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The kept regular files under {@code folder}, as sorted {@code /}-separated relative paths. */
    public List<String> files(Path folder) {
        List<String> kept = new ArrayList<>();
        try {
            Files.walkFileTree(folder, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return dir.equals(folder) || !excludes(relative(dir)) ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String rel = relative(file);
                    if (attrs.isRegularFile() && !excludes(rel)) {
                        kept.add(rel);
                    }
                    return FileVisitResult.CONTINUE;
                }

                private String relative(Path p) {
                    return folder.relativize(p).toString().replace(File.separatorChar, '/');
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
        kept.sort(null);
        return kept;
    }
}

package dev.kiln.frontend;

import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import java.util.Optional;

/** Finds the parsed source of a class used as a building block of a model. */
@FunctionalInterface
public interface SourceResolver {
    /**
     * Returns the declaration of the class that {@code simpleName} names from the point of view of
     * {@code context}, if its source is available.
     */
    Optional<ClassOrInterfaceDeclaration> find(String simpleName, ClassOrInterfaceDeclaration context);
}

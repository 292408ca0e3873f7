package io.vireo;

import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;

/** {@link Property} method references to field names: resolved once per reference class. */
final class Properties {
  private Properties() {}

  /** A holder per lambda class: the name, filled on first use (idempotent, so a race is harmless). */
  private static final ClassValue<String[]> CACHE = new ClassValue<>() {
    @Override
    protected String[] computeValue(Class<?> type) {
      return new String[1];
    }
  };

  static String of(Property<?, ?> property) {
    if (property == null) {
      throw new IllegalArgumentException("Vireo: the property is null; pass a method reference such as Block::key");
    }
    String[] holder = CACHE.get(property.getClass());
    String name = holder[0];
    if (name == null) {
      name = resolve(property);
      holder[0] = name;
    }
    return name;
  }

  private static String resolve(Property<?, ?> property) {
    SerializedLambda lambda;
    try {
      Method writeReplace = property.getClass().getDeclaredMethod("writeReplace");
      writeReplace.setAccessible(true);
      Object form = writeReplace.invoke(property);
      if (!(form instanceof SerializedLambda)) {
        throw notAReference(property, "it is a " + property.getClass().getName());
      }
      lambda = (SerializedLambda) form;
    } catch (NoSuchMethodException e) {
      throw notAReference(property, "it is a " + property.getClass().getName() + ", not a lambda");
    } catch (ReflectiveOperationException | RuntimeException e) {
      if (e instanceof IllegalArgumentException) {
        throw (IllegalArgumentException) e;
      }
      throw new IllegalArgumentException("Vireo: cannot read the method reference " + property
          + " (" + e + ")", e);
    }
    String method = lambda.getImplMethodName();
    int kind = lambda.getImplMethodKind();
    boolean instanceMethod = kind == java.lang.invoke.MethodHandleInfo.REF_invokeVirtual
        || kind == java.lang.invoke.MethodHandleInfo.REF_invokeInterface;
    if (method.startsWith("lambda$") || !instanceMethod || lambda.getCapturedArgCount() != 0) {
      throw notAReference(property, "it is a lambda (" + lambda.getImplClass().replace('/', '.')
          + "." + method + ")");
    }
    if (isRecord(lambda.getImplClass(), property.getClass().getClassLoader())) {
      return method;
    }
    if (method.length() > 3 && method.startsWith("get") && Character.isUpperCase(method.charAt(3))) {
      return decap(method.substring(3));
    }
    if (method.length() > 2 && method.startsWith("is") && Character.isUpperCase(method.charAt(2))) {
      return decap(method.substring(2));
    }
    return method;
  }

  private static boolean isRecord(String internalName, ClassLoader loader) {
    try {
      return Class.forName(internalName.replace('/', '.'), false, loader).isRecord();
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static String decap(String s) {
    return Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static IllegalArgumentException notAReference(Property<?, ?> property, String what) {
    return new IllegalArgumentException("Vireo: a property must be a method reference to a record accessor"
        + " or getter, such as Block::key or Page::getTitle; " + what + ", which names no field");
  }

  /** The field names of {@code n} properties, in order ({@code at(i)} is the i-th: a varargs array is read, never passed on). */
  static String[] names(int n, java.util.function.IntFunction<Property<?, ?>> at) {
    String[] names = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = of(at.apply(i));
    }
    return names;
  }
}

package io.vireo;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Instances <-> the user's records and simple POJOs. A component (or property)
 * named {@code createdAt} reads the key {@code createdAt}, else {@code created-at},
 * else {@code created_at}.
 */
final class Records {
  private Records() {}

  /** A record's components, or a POJO's getters and public fields, by name. */
  static Map<String, Object> toMap(Object o) {
    Map<String, Object> m = new LinkedHashMap<>();
    Class<?> c = o.getClass();
    try {
      if (c.isRecord()) {
        for (RecordComponent rc : c.getRecordComponents()) {
          Method acc = rc.getAccessor();
          acc.setAccessible(true);
          m.put(rc.getName(), acc.invoke(o));
        }
        return m;
      }
      for (Method meth : c.getMethods()) {
        String n = meth.getName();
        if (meth.getParameterCount() != 0 || Modifier.isStatic(meth.getModifiers())
            || meth.getDeclaringClass() == Object.class) {
          continue;
        }
        String prop = null;
        if (n.startsWith("get") && n.length() > 3) {
          prop = decap(n.substring(3));
        } else if (n.startsWith("is") && n.length() > 2
            && (meth.getReturnType() == boolean.class || meth.getReturnType() == Boolean.class)) {
          prop = decap(n.substring(2));
        }
        if (prop != null) {
          m.put(prop, meth.invoke(o));
        }
      }
      for (Field f : c.getFields()) {
        if (!Modifier.isStatic(f.getModifiers())) {
          m.putIfAbsent(f.getName(), f.get(o));
        }
      }
      return m;
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("Vireo: cannot read the properties of " + c.getName(), e);
    }
  }

  private static String decap(String s) {
    return Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  static String kebab(String camel) {
    StringBuilder b = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        b.append('-').append(Character.toLowerCase(ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  private static Object lookup(Instance inst, String name) {
    if (inst.has(name)) {
      return inst.get(name);
    }
    String k = kebab(name);
    if (inst.has(k)) {
      return inst.get(k);
    }
    String s = k.replace('-', '_');
    return inst.has(s) ? inst.get(s) : null;
  }

  /** Builds a record (canonical constructor) or a POJO (no-arg constructor, setters or fields). */
  static <R> R fromInstance(Instance inst, Class<R> type) {
    if (inst == null) {
      return null;
    }
    try {
      if (type.isRecord()) {
        RecordComponent[] rcs = type.getRecordComponents();
        Class<?>[] types = new Class<?>[rcs.length];
        Object[] args = new Object[rcs.length];
        for (int i = 0; i < rcs.length; i++) {
          types[i] = rcs[i].getType();
          args[i] = convert(lookup(inst, rcs[i].getName()), types[i], rcs[i].getGenericType(), rcs[i].getName(), type);
        }
        Constructor<R> ctor = type.getDeclaredConstructor(types);
        ctor.setAccessible(true);
        return ctor.newInstance(args);
      }
      Constructor<R> ctor = type.getDeclaredConstructor();
      ctor.setAccessible(true);
      R r = ctor.newInstance();
      for (Method meth : type.getMethods()) {
        String n = meth.getName();
        if (n.startsWith("set") && n.length() > 3 && meth.getParameterCount() == 1
            && !Modifier.isStatic(meth.getModifiers())) {
          String prop = decap(n.substring(3));
          if (has(inst, prop)) {
            meth.invoke(r, convert(lookup(inst, prop), meth.getParameterTypes()[0],
                meth.getGenericParameterTypes()[0], prop, type));
          }
        }
      }
      for (Field f : type.getFields()) {
        if (!Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers()) && has(inst, f.getName())) {
          f.set(r, convert(lookup(inst, f.getName()), f.getType(), f.getGenericType(), f.getName(), type));
        }
      }
      return r;
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("Vireo: cannot build a " + type.getName()
          + " (a record, or a class with a no-argument constructor and setters)", e);
    }
  }

  private static boolean has(Instance inst, String name) {
    String k = kebab(name);
    return inst.has(name) || inst.has(k) || inst.has(k.replace('-', '_'));
  }

  private static Object convert(Object v, Class<?> t, Type generic, String name, Class<?> owner) {
    if (t.isPrimitive()) {
      if (v == null) {
        if (t == boolean.class) {
          return false;
        }
        if (t == char.class) {
          return '\0';
        }
        v = 0L;
      }
      t = box(t);
    }
    if (v instanceof List && List.class.isAssignableFrom(t) && generic instanceof ParameterizedType) {
      Type arg = ((ParameterizedType) generic).getActualTypeArguments()[0];
      if (arg instanceof Class<?> && arg != Object.class) {
        // element by element: a List<Child> of prefetched instances, a JSON List<Long>
        List<Object> out = new ArrayList<>();
        for (Object x : (List<?>) v) {
          out.add(convert(x, (Class<?>) arg, arg, name, owner));
        }
        return out;
      }
    }
    if (v == null || t.isInstance(v)) {
      return v;
    }
    if (t.isEnum() && v instanceof String) {
      return enumConstant(t, (String) v, name, owner);
    }
    if (v instanceof Number) {
      Number n = (Number) v;
      if (t == Integer.class) {
        return Math.toIntExact(n.longValue());
      } else if (t == Long.class) {
        return n.longValue();
      } else if (t == Short.class) {
        return (short) n.longValue();
      } else if (t == Byte.class) {
        return (byte) n.longValue();
      } else if (t == Double.class) {
        return n.doubleValue();
      } else if (t == Float.class) {
        return n.floatValue();
      } else if (t == BigDecimal.class) {
        return n instanceof BigInteger ? new BigDecimal((BigInteger) n) : new BigDecimal(n.toString());
      } else if (t == BigInteger.class) {
        return new BigInteger(n.toString());
      }
    }
    if (v instanceof Instance) {
      Instance i = (Instance) v;
      if (Number.class.isAssignableFrom(t) || t == String.class || t == java.util.UUID.class) {
        // a loaded relation (joined, fetched) read into a key component: the related row's key
        return convert(i.key(), t, t, name, owner);
      }
      return Map.class.isAssignableFrom(t) ? i.toMap() : fromInstance(i, t);
    }
    if (t == String.class && v instanceof java.util.UUID) {
      return v.toString();
    }
    throw new IllegalArgumentException("Vireo: " + owner.getSimpleName() + "." + name + " is a "
        + t.getSimpleName() + " but the value is a " + v.getClass().getName() + ": " + v);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object enumConstant(Class<?> t, String constant, String name, Class<?> owner) {
    try {
      return Enum.valueOf((Class) t, constant);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Vireo: " + owner.getSimpleName() + "." + name + " is a "
          + t.getSimpleName() + " but the column holds \"" + constant + "\", which names none of its constants", e);
    }
  }

  private static Class<?> box(Class<?> t) {
    if (t == int.class) {
      return Integer.class;
    } else if (t == long.class) {
      return Long.class;
    } else if (t == double.class) {
      return Double.class;
    } else if (t == float.class) {
      return Float.class;
    } else if (t == short.class) {
      return Short.class;
    } else if (t == byte.class) {
      return Byte.class;
    } else if (t == boolean.class) {
      return Boolean.class;
    }
    return Character.class;
  }
}

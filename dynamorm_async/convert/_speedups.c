/* Compiled item codecs: the generated codecs of _generate.py, as C.
 *
 * A codec is built from the same description the Python generator writes source
 * from (a tuple per field, made by _generate._described from an Inline tree), and
 * follows it exactly: each inline path either gives what the field's hook gives, or
 * calls the hook. Where this file is unsure (a value of an unexpected class, an
 * item that is not a plain dict, a failed attempt), it calls the hook, which is the
 * reference; tests/unit/convert/test_generated_codecs.py runs every case on both
 * this module and the Python source. Only exact dicts, strs, lists... are read here.
 *
 * Codecs hold their description tuples and borrow every object from them: the
 * tuples are immutable and live as long as the codec.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <structmember.h>

/* Kinds, numbered as in _generate._KINDS. */
enum {
    K_HOOK = 0,
    K_STR = 1,
    K_BOOL = 2,
    K_INT = 3,
    K_FLOAT = 4,
    K_DECIMAL = 5,
    K_DATETIME = 6,
    K_UUID = 7,
    K_CLASS = 8,
    K_OPTIONAL = 9,
    K_LIST = 10,
    K_SET = 11,
    K_STRSET = 12,
    K_NUMSET = 13,
};

/* Set elements, as in _generate._ELEMENTS. */
enum { E_STR = 0, E_DECIMAL = 1, E_FLOAT = 2, E_INT = 3, E_OTHER = 4 };

/* Field modes. Decoding: how a missing attribute is read; encoding: what a hook's
 * None does. */
enum { D_REQUIRED = 0, D_FILLABLE = 1, D_DEFAULT = 2, D_FACTORY = 3 };
enum { E_PLAIN = 0, E_OMIT = 1, E_NULL = 2 };

typedef struct Spec {
    int kind;
    int element;
    PyObject *hook;     /* decoding: hook(av, tp); encoding: hook(value) */
    PyObject *tp;
    struct Spec *inner; /* optional, list */
    PyObject *function; /* class: the nested codec; set, numset: the element's codec */
    PyObject *cls;      /* class: the class (encoding tests it) */
    PyObject *tag;      /* set: "SS", "NS", "BS" */
    PyObject *make;     /* set: set or frozenset */
} Spec;

/* Interned keys, set when the module is imported. */
static PyObject *S_S, *S_N, *S_BOOL, *S_M, *S_L, *S_NULL, *S_SS, *S_NS, *S_int, *S_is_safe,
    *S_tzinfo, *S_hex_format;
/* Set by configure(), from _generate's namespace. */
static PyObject *g_Decimal, *g_finite, *g_adjusted, *g_fromiso, *g_UTC, *g_limit, *g_neg_limit,
    *g_UUID, *g_safe_unknown;
static long long g_digits, g_exp_min, g_exp_max;
static int g_configured = 0;
/* Where a UUID keeps its `int` and `is_safe` slots (0: not known, use setattr). */
static Py_ssize_t g_uuid_int_offset = 0, g_uuid_safe_offset = 0;

/* --- descriptions ----------------------------------------------------------------- */

static void
spec_free(Spec *spec)
{
    if (spec == NULL) {
        return;
    }
    spec_free(spec->inner);
    PyMem_Free(spec);
}

static PyObject *
none_to_null(PyObject *o)
{
    return o == Py_None ? NULL : o;
}

/* A Spec from (kind, element, hook, tp, inner, function, cls, tag, make); borrows. */
static Spec *
spec_from(PyObject *t)
{
    if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 9) {
        PyErr_SetString(PyExc_TypeError, "a codec description is a 9-tuple");
        return NULL;
    }
    Spec *spec = PyMem_Calloc(1, sizeof(Spec));
    if (spec == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    spec->kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 0));
    spec->element = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 1));
    if (PyErr_Occurred()) {
        PyMem_Free(spec);
        return NULL;
    }
    spec->hook = PyTuple_GET_ITEM(t, 2);
    spec->tp = PyTuple_GET_ITEM(t, 3);
    spec->function = none_to_null(PyTuple_GET_ITEM(t, 5));
    spec->cls = none_to_null(PyTuple_GET_ITEM(t, 6));
    spec->tag = none_to_null(PyTuple_GET_ITEM(t, 7));
    spec->make = none_to_null(PyTuple_GET_ITEM(t, 8));
    PyObject *inner = PyTuple_GET_ITEM(t, 4);
    if (inner != Py_None) {
        spec->inner = spec_from(inner);
        if (spec->inner == NULL) {
            PyMem_Free(spec);
            return NULL;
        }
    }
    int needs_inner = spec->kind == K_OPTIONAL || spec->kind == K_LIST;
    int needs_function = spec->kind == K_CLASS;
    int needs_set = spec->kind == K_SET;
    int needs_element = spec->kind == K_NUMSET;
    if (spec->kind < K_HOOK || spec->kind > K_NUMSET || (needs_inner && spec->inner == NULL) ||
        (needs_element && (spec->element < E_DECIMAL || spec->element > E_INT)) ||
        (needs_function && (spec->function == NULL || spec->cls == NULL)) ||
        (needs_set && (spec->tag == NULL || spec->make == NULL || spec->element < E_STR ||
                       spec->element > E_OTHER ||
                       (spec->element == E_OTHER && spec->function == NULL))) ||
        !PyCallable_Check(spec->hook)) {
        spec_free(spec);
        PyErr_SetString(PyExc_ValueError, "an incomplete codec description");
        return NULL;
    }
    return spec;
}

/* --- decoding --------------------------------------------------------------------- */

static PyObject *
call_hook(Spec *spec, PyObject *av)
{
    PyObject *args[2] = {av, spec->tp};
    return PyObject_Vectorcall(spec->hook, args, 2, NULL);
}

/* After a failed attempt: what the hook gives, as the Python source's except does. */
static PyObject *
hook_after_failure(Spec *spec, PyObject *av)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return NULL; /* not something `except Exception` catches */
    }
    PyErr_Clear();
    return call_hook(spec, av);
}

/* av[key] if av is a dict holding it (borrowed), else NULL with no error set; an error
 * of the lookup itself (a key's __eq__ cannot fail for str keys) is cleared. */
static PyObject *
lookup(PyObject *av, PyObject *key)
{
    if (!PyDict_CheckExact(av)) {
        return NULL;
    }
    PyObject *value = PyDict_GetItemWithError(av, key);
    if (value == NULL) {
        PyErr_Clear();
    }
    return value;
}

static int
has_null(PyObject *av)
{
    return PyDict_Contains(av, S_NULL); /* av is an exact dict here */
}

static PyObject *decode_value(Spec *spec, PyObject *av);

/* 32 hex digits and dashes as a UUID, or NULL with no error set if text is not that
 * plain form (the Python path then decides). */
static PyObject *
uuid_from_text(PyObject *text)
{
    if (g_UUID == Py_None || !PyUnicode_IS_ASCII(text)) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const char *chars = (const char *)PyUnicode_DATA(text);
    char digits[33];
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        char c = chars[i];
        if (c == '-') {
            continue;
        }
        if (count == 32 || !isxdigit((unsigned char)c)) {
            return NULL;
        }
        digits[count++] = c;
    }
    if (count != 32) {
        return NULL;
    }
    digits[32] = '\0';
    PyObject *value = PyLong_FromString(digits, NULL, 16);
    if (value == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)g_UUID;
    PyObject *made = type->tp_alloc(type, 0);
    if (made == NULL) {
        Py_DECREF(value);
        return NULL; /* MemoryError stays set */
    }
    /* What _hooks._uuid_text does: the slots set past UUID's refusing __setattr__
     * (written where they are, on the new object, when their places are known). */
    if (g_uuid_int_offset) {
        *(PyObject **)((char *)made + g_uuid_int_offset) = value;
        *(PyObject **)((char *)made + g_uuid_safe_offset) = Py_NewRef(g_safe_unknown);
        return made;
    }
    if (PyObject_GenericSetAttr(made, S_int, value) < 0 ||
        PyObject_GenericSetAttr(made, S_is_safe, g_safe_unknown) < 0) {
        Py_DECREF(value);
        Py_DECREF(made);
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(value);
    return made;
}

static PyObject *
decode_uuid(Spec *spec, PyObject *av)
{
    PyObject *text = lookup(av, S_S);
    if (text != NULL && PyUnicode_CheckExact(text)) {
        PyObject *made = uuid_from_text(text);
        if (made != NULL || PyErr_Occurred()) {
            return made;
        }
    }
    if (text != NULL && spec->function != NULL) {
        PyObject *made = PyObject_CallOneArg(spec->function, text);
        if (made != NULL) {
            return made;
        }
        return hook_after_failure(spec, av);
    }
    return call_hook(spec, av);
}

static PyObject *
decode_number(Spec *spec, PyObject *av)
{
    PyObject *text = lookup(av, S_N);
    if (text == NULL || !PyUnicode_CheckExact(text)) {
        return call_hook(spec, av);
    }
    PyObject *value;
    switch (spec->kind) {
    case K_INT:
        value = PyLong_FromUnicodeObject(text, 10);
        return value != NULL ? value : hook_after_failure(spec, av);
    case K_FLOAT:
        if (PyUnicode_IS_ASCII(text) && PyUnicode_GET_LENGTH(text) > 0) {
            /* The plain spellings, read where they are; float() reads the others
             * (spaces, underscores), after a copy. */
            const char *start = (const char *)PyUnicode_DATA(text);
            char *end;
            double d = PyOS_string_to_double(start, &end, NULL);
            if (d == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
            } else if (end == start + PyUnicode_GET_LENGTH(text)) {
                return isfinite(d) ? PyFloat_FromDouble(d) : call_hook(spec, av);
            }
        }
        value = PyFloat_FromString(text);
        if (value == NULL) {
            return hook_after_failure(spec, av);
        }
        if (!isfinite(PyFloat_AS_DOUBLE(value))) {
            Py_DECREF(value);
            return call_hook(spec, av);
        }
        return value;
    default: { /* K_DECIMAL */
        value = PyObject_CallOneArg(g_Decimal, text);
        if (value == NULL) {
            return hook_after_failure(spec, av);
        }
        PyObject *finite = PyObject_CallOneArg(g_finite, value);
        if (finite == NULL) {
            Py_DECREF(value);
            return hook_after_failure(spec, av);
        }
        int ok = PyObject_IsTrue(finite);
        Py_DECREF(finite);
        if (ok != 1) {
            Py_DECREF(value);
            return ok < 0 ? hook_after_failure(spec, av) : call_hook(spec, av);
        }
        return value;
    }
    }
}

static PyObject *
decode_datetime(Spec *spec, PyObject *av)
{
    PyObject *text = lookup(av, S_S);
    if (text == NULL) {
        return call_hook(spec, av);
    }
    PyObject *value = PyObject_CallOneArg(g_fromiso, text);
    if (value == NULL) {
        return hook_after_failure(spec, av);
    }
    PyObject *tz = PyObject_GetAttr(value, S_tzinfo);
    if (tz == NULL) {
        Py_DECREF(value);
        return hook_after_failure(spec, av);
    }
    Py_DECREF(tz); /* only its identity is needed, and value holds it */
    if (tz != g_UTC) {
        Py_DECREF(value);
        return call_hook(spec, av);
    }
    return value;
}

static PyObject *
decode_element(Spec *spec, PyObject *item)
{
    switch (spec->element) {
    case E_DECIMAL:
        return PyObject_CallOneArg(g_Decimal, item);
    case E_FLOAT:
        return PyObject_CallOneArg((PyObject *)&PyFloat_Type, item);
    case E_INT:
        return PyObject_CallOneArg((PyObject *)&PyLong_Type, item);
    default:
        return PyObject_CallOneArg(spec->function, item);
    }
}

/* Is every element of the decoded set finite (Decimal and float sets)? 1, 0 or -1. */
static int
all_finite(Spec *spec, PyObject *set)
{
    PyObject *iterator = PyObject_GetIter(set);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *element;
    int result = 1;
    while (result == 1 && (element = PyIter_Next(iterator)) != NULL) {
        if (spec->element == E_FLOAT) {
            double d = PyFloat_AsDouble(element);
            if (d == -1.0 && PyErr_Occurred()) {
                result = -1;
            } else if (!isfinite(d)) {
                result = 0;
            }
        } else {
            PyObject *finite = PyObject_CallOneArg(g_finite, element);
            if (finite == NULL) {
                result = -1;
            } else {
                result = PyObject_IsTrue(finite);
                Py_DECREF(finite);
            }
        }
        Py_DECREF(element);
    }
    Py_DECREF(iterator);
    if (result == 1 && PyErr_Occurred()) {
        result = -1;
    }
    return result;
}

static PyObject *
decode_set(Spec *spec, PyObject *av)
{
    PyObject *values = lookup(av, spec->tag);
    int frozen = spec->make == (PyObject *)&PyFrozenSet_Type;
    if (values == NULL || !PyList_CheckExact(values) ||
        (!frozen && spec->make != (PyObject *)&PySet_Type)) {
        return call_hook(spec, av);
    }
    int null = has_null(av);
    if (null != 0) {
        return null < 0 ? hook_after_failure(spec, av) : call_hook(spec, av);
    }
    PyObject *made = frozen ? PyFrozenSet_New(NULL) : PySet_New(NULL);
    if (made == NULL) {
        return NULL;
    }
    Py_INCREF(values); /* an element decoder could change the item */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        PyObject *item = PyList_GET_ITEM(values, i);
        Py_INCREF(item);
        PyObject *element = spec->element == E_STR ? (Py_INCREF(item), item)
                                                    : decode_element(spec, item);
        Py_DECREF(item);
        if (element == NULL || PySet_Add(made, element) < 0) {
            Py_XDECREF(element);
            Py_DECREF(values);
            Py_DECREF(made);
            return hook_after_failure(spec, av);
        }
        Py_DECREF(element);
    }
    Py_DECREF(values);
    if (spec->element == E_DECIMAL || spec->element == E_FLOAT) {
        int finite = all_finite(spec, made);
        if (finite != 1) {
            Py_DECREF(made);
            return finite < 0 ? hook_after_failure(spec, av) : call_hook(spec, av);
        }
    }
    return made;
}

static PyObject *
decode_list(Spec *spec, PyObject *av)
{
    PyObject *values = lookup(av, S_L);
    if (values == NULL || !PyList_CheckExact(values)) {
        return call_hook(spec, av);
    }
    Py_INCREF(values);
    PyObject *made = PyList_New(0);
    if (made == NULL) {
        Py_DECREF(values);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        PyObject *item = PyList_GET_ITEM(values, i);
        Py_INCREF(item);
        PyObject *element = decode_value(spec->inner, item);
        Py_DECREF(item);
        if (element == NULL || PyList_Append(made, element) < 0) {
            Py_XDECREF(element);
            Py_DECREF(values);
            Py_DECREF(made);
            return NULL; /* as in the Python source: an element's error is the list's */
        }
        Py_DECREF(element);
    }
    Py_DECREF(values);
    return made;
}

static PyObject *
decode_value(Spec *spec, PyObject *av)
{
    PyObject *value;
    switch (spec->kind) {
    case K_STR:
        value = lookup(av, S_S);
        if (value != NULL && PyUnicode_CheckExact(value)) {
            return Py_NewRef(value);
        }
        return call_hook(spec, av);
    case K_BOOL:
        value = lookup(av, S_BOOL);
        if (value != NULL && PyBool_Check(value)) {
            return Py_NewRef(value);
        }
        return call_hook(spec, av);
    case K_INT:
    case K_FLOAT:
    case K_DECIMAL:
        return decode_number(spec, av);
    case K_DATETIME:
        return decode_datetime(spec, av);
    case K_UUID:
        return decode_uuid(spec, av);
    case K_CLASS: {
        value = lookup(av, S_M);
        if (value == NULL) {
            return call_hook(spec, av);
        }
        Py_INCREF(value); /* a hook inside could change av */
        PyObject *made = PyObject_CallOneArg(spec->function, value);
        Py_DECREF(value);
        return made;
    }
    case K_OPTIONAL:
        if (!PyDict_CheckExact(av)) {
            return call_hook(spec, av);
        }
        switch (has_null(av)) {
        case 1:
            Py_RETURN_NONE;
        case 0:
            return decode_value(spec->inner, av);
        default:
            return NULL;
        }
    case K_LIST:
        if (Py_EnterRecursiveCall(" while decoding a list")) {
            return NULL;
        }
        value = decode_list(spec, av);
        Py_LeaveRecursiveCall();
        return value;
    case K_SET:
        return decode_set(spec, av);
    default:
        return call_hook(spec, av);
    }
}

/* --- codecs: what decoders and encoders share -------------------------------------- */

typedef struct {
    PyObject *stored;   /* the attribute's name in the item */
    PyObject *name;     /* encoding: the Python attribute; decoding: the keyword, or NULL */
    int mode;
    PyObject *fallback; /* decoding: the default, or its factory */
    Py_ssize_t slot;    /* decoding: where its value goes in the class's arguments */
    Spec *spec;
} Field;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *fields_tuple; /* owns what the fields borrow */
    PyObject *none_object;
    PyObject *cls;     /* decoding: the class */
    PyObject *python;  /* decoding: the Python source's decoder, for what is not a dict */
    PyObject *kwnames; /* decoding: the keyword-only fields' names, or NULL */
    Py_ssize_t positional;
    Py_ssize_t count;
    Field *fields;
} Codec;

static PyObject *
codec_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames,
           PyObject *(*run)(Codec *, PyObject *))
{
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a codec takes one argument");
        return NULL;
    }
    if (Py_EnterRecursiveCall(" in a codec")) {
        return NULL;
    }
    PyObject *result = NULL;
    if (((Codec *)self)->fields_tuple == NULL) { /* cleared by the garbage collector */
        PyErr_SetString(PyExc_ReferenceError, "this codec was cleared");
    } else {
        result = run((Codec *)self, args[0]);
    }
    Py_LeaveRecursiveCall();
    return result;
}

static int
codec_traverse(Codec *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fields_tuple);
    Py_VISIT(self->none_object);
    Py_VISIT(self->cls);
    Py_VISIT(self->python);
    Py_VISIT(self->kwnames);
    return 0;
}

static int
codec_clear(Codec *self)
{
    if (self->fields != NULL) { /* they borrow from fields_tuple */
        for (Py_ssize_t i = 0; i < self->count; i++) {
            spec_free(self->fields[i].spec);
        }
        PyMem_Free(self->fields);
        self->fields = NULL;
    }
    self->count = 0;
    Py_CLEAR(self->fields_tuple);
    Py_CLEAR(self->none_object);
    Py_CLEAR(self->cls);
    Py_CLEAR(self->python);
    Py_CLEAR(self->kwnames);
    return 0;
}

static void
codec_dealloc(Codec *self)
{
    PyObject_GC_UnTrack(self);
    codec_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A codec whose fields are read from the tuples in `fields` by `read`. */
static Codec *
codec_new(PyTypeObject *type, PyObject *fields, PyObject *none_object, vectorcallfunc vectorcall,
          int (*read)(Field *, PyObject *))
{
    if (!g_configured) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    Codec *self = (Codec *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = vectorcall;
    self->fields_tuple = Py_NewRef(fields);
    self->none_object = Py_NewRef(none_object);
    Py_ssize_t count = PyTuple_GET_SIZE(fields);
    self->fields = PyMem_Calloc(count ? count : 1, sizeof(Field));
    if (self->fields == NULL) {
        Py_DECREF(self);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        self->count = i + 1; /* what codec_clear frees */
        if (read(&self->fields[i], PyTuple_GET_ITEM(fields, i)) < 0) {
            Py_DECREF(self);
            return NULL;
        }
    }
    return self;
}

static int
no_keywords(const char *name, PyObject *kwargs)
{
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_Format(PyExc_TypeError, "%s takes positional arguments", name);
        return -1;
    }
    return 0;
}

/* --- the decoder ------------------------------------------------------------------ */

static PyObject *
decoder_decode(Codec *self, PyObject *item)
{
    if (!PyDict_CheckExact(item)) {
        return PyObject_CallOneArg(self->python, item);
    }
    PyObject *small[24];
    PyObject **values = small;
    if (self->count > 24) {
        values = PyMem_Malloc(self->count * sizeof(PyObject *));
        if (values == NULL) {
            return PyErr_NoMemory();
        }
    }
    memset(values, 0, self->count * sizeof(PyObject *));
    PyObject *result = NULL;
    /* In the class's order, as the Python source reads them (the first error is the
     * same); each value goes to its slot, keyword-only ones last. */
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Field *field = &self->fields[i];
        PyObject *av = PyDict_GetItemWithError(item, field->stored);
        PyObject *value;
        if (av == NULL) {
            if (PyErr_Occurred()) {
                goto finally;
            }
            switch (field->mode) {
            case D_REQUIRED:
                PyErr_SetObject(PyExc_KeyError, field->stored);
                goto finally;
            case D_FILLABLE:
                value = decode_value(field->spec, self->none_object);
                break;
            case D_DEFAULT:
                value = Py_NewRef(field->fallback);
                break;
            default: /* D_FACTORY */
                value = PyObject_CallNoArgs(field->fallback);
            }
        } else {
            Py_INCREF(av); /* a hook could change the item */
            value = decode_value(field->spec, av);
            Py_DECREF(av);
        }
        if (value == NULL) {
            goto finally;
        }
        values[field->slot] = value;
    }
    result = PyObject_Vectorcall(self->cls, values, self->positional, self->kwnames);
finally:
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Py_XDECREF(values[i]);
    }
    if (values != small) {
        PyMem_Free(values);
    }
    return result;
}

static PyObject *
decoder_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return codec_call(self, args, nargsf, kwnames, decoder_decode);
}

/* A decoder field from (stored, mode, default, description, keyword or None). */
static int
decoder_read(Field *field, PyObject *t)
{
    if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 5 ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(t, 0))) {
        PyErr_SetString(PyExc_TypeError,
                        "a decoder field is (stored, mode, default, description, keyword)");
        return -1;
    }
    field->stored = PyTuple_GET_ITEM(t, 0);
    field->mode = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 1));
    field->fallback = PyTuple_GET_ITEM(t, 2);
    field->name = none_to_null(PyTuple_GET_ITEM(t, 4));
    if (PyErr_Occurred()) {
        return -1;
    }
    if (field->mode < D_REQUIRED || field->mode > D_FACTORY ||
        (field->mode == D_FACTORY && !PyCallable_Check(field->fallback))) {
        PyErr_SetString(PyExc_ValueError, "an unknown decoder field mode");
        return -1;
    }
    field->spec = spec_from(PyTuple_GET_ITEM(t, 3));
    return field->spec == NULL ? -1 : 0;
}

/* Decoder(cls, fields, none_object, python), fields in the class's order. */
static PyObject *
decoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *cls, *fields, *none_object, *python;
    if (no_keywords("Decoder", kwargs) < 0 ||
        !PyArg_ParseTuple(args, "OO!OO:Decoder", &cls, &PyTuple_Type, &fields, &none_object,
                          &python)) {
        return NULL;
    }
    Codec *self = codec_new(type, fields, none_object, decoder_vectorcall, decoder_read);
    if (self == NULL) {
        return NULL;
    }
    self->cls = Py_NewRef(cls);
    self->python = Py_NewRef(python);
    PyObject *keywords = PyList_New(0);
    if (keywords == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        self->positional += self->fields[i].name == NULL;
    }
    Py_ssize_t positional = 0;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Field *field = &self->fields[i];
        if (field->name == NULL) {
            field->slot = positional++;
            continue;
        }
        field->slot = self->positional + PyList_GET_SIZE(keywords);
        if (PyList_Append(keywords, field->name) < 0) {
            goto error;
        }
    }
    if (PyList_GET_SIZE(keywords)) {
        self->kwnames = PyList_AsTuple(keywords);
        if (self->kwnames == NULL) {
            goto error;
        }
    }
    Py_DECREF(keywords);
    return (PyObject *)self;
error:
    Py_DECREF(keywords);
    Py_DECREF(self);
    return NULL;
}

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dynamorm_async.convert._speedups.Decoder",
    .tp_doc = "A compiled item decoder: Decoder(cls, fields, none_object, python).",
    .tp_basicsize = sizeof(Codec),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = decoder_new,
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_vectorcall_offset = offsetof(Codec, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* --- encoding --------------------------------------------------------------------- */

static PyObject *
tagged(PyObject *tag, PyObject *value)
{
    PyObject *av = PyDict_New();
    if (av == NULL || PyDict_SetItem(av, tag, value) < 0) {
        Py_XDECREF(av);
        return NULL;
    }
    return av;
}

/* Like tagged, and takes the reference to value. */
static PyObject *
tagged_steal(PyObject *tag, PyObject *value)
{
    if (value == NULL) {
        return NULL;
    }
    PyObject *av = tagged(tag, value);
    Py_DECREF(value);
    return av;
}

static PyObject *
call_encode_hook(Spec *spec, PyObject *value)
{
    return PyObject_CallOneArg(spec->hook, value);
}

/* An int within DynamoDB's 38 digits: 1, 0 or -1. */
static int
int_in_range(PyObject *value)
{
    int overflow;
    PyLong_AsLongLongAndOverflow(value, &overflow);
    if (!overflow) {
        return 1; /* |value| < 2**63 < 10**38 */
    }
    int below = PyObject_RichCompareBool(value, g_limit, Py_LT);
    if (below != 1) {
        return below;
    }
    return PyObject_RichCompareBool(g_neg_limit, value, Py_LT);
}

/* Python truth of g(value) for a Decimal method g: 1, 0 or -1. */
static int
decimal_test(PyObject *method, PyObject *value)
{
    PyObject *result = PyObject_CallOneArg(method, value);
    if (result == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

/* The text _numbers gives for a number of `kind` (K_INT, K_FLOAT, K_DECIMAL) where it
 * is plain: an exact int within 38 digits; an exact, finite, non-zero float whose repr
 * has no exponent; an exact, finite, non-zero Decimal of at most 38 characters within
 * DynamoDB's exponents. NULL with no error set for anything else (the hook decides). */
static PyObject *
number_text(int kind, PyObject *value)
{
    if (kind == K_INT) {
        if (!PyLong_CheckExact(value)) {
            return NULL;
        }
        int ok = int_in_range(value);
        return ok == 1 ? PyObject_Str(value) : NULL;
    }
    if (kind == K_FLOAT) {
        if (!PyFloat_CheckExact(value)) {
            return NULL;
        }
        double d = PyFloat_AS_DOUBLE(value);
        if (!isfinite(d) || d == 0.0) {
            return NULL;
        }
        PyObject *text = PyObject_Repr(value);
        if (text != NULL &&
            PyUnicode_FindChar(text, 'e', 0, PyUnicode_GET_LENGTH(text), 1) != -1) {
            Py_CLEAR(text);
        }
        return text;
    }
    if (Py_TYPE(value) != (PyTypeObject *)g_Decimal) {
        return NULL;
    }
    int ok = decimal_test(g_finite, value);
    if (ok == 1) {
        ok = PyObject_IsTrue(value);
    }
    if (ok != 1) {
        return NULL;
    }
    PyObject *text = PyObject_Str(value);
    if (text == NULL || PyUnicode_GET_LENGTH(text) > g_digits) {
        Py_XDECREF(text);
        return NULL;
    }
    PyObject *adjusted = PyObject_CallOneArg(g_adjusted, value);
    long long exponent = adjusted == NULL ? -1 : PyLong_AsLongLong(adjusted);
    Py_XDECREF(adjusted);
    if ((exponent == -1 && PyErr_Occurred()) || exponent < g_exp_min || exponent > g_exp_max) {
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

static PyObject *
encode_number(Spec *spec, PyObject *value)
{
    PyObject *text = number_text(spec->kind, value);
    if (text != NULL) {
        return tagged_steal(S_N, text);
    }
    return PyErr_Occurred() ? NULL : call_encode_hook(spec, value);
}

static const int number_kinds[] = {[E_DECIMAL] = K_DECIMAL, [E_FLOAT] = K_FLOAT, [E_INT] = K_INT};

/* A number set: {"NS": [texts]} if every element is plain, else the hook's result. */
static PyObject *
encode_number_set(Spec *spec, PyObject *value)
{
    if (!PyAnySet_CheckExact(value)) {
        return call_encode_hook(spec, value);
    }
    if (PySet_GET_SIZE(value) == 0) {
        Py_RETURN_NONE;
    }
    PyObject *texts = PySequence_List(value);
    if (texts == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(texts); i++) {
        PyObject *text = number_text(number_kinds[spec->element], PyList_GET_ITEM(texts, i));
        if (text == NULL) {
            Py_DECREF(texts);
            return PyErr_Occurred() ? NULL : call_encode_hook(spec, value);
        }
        PyList_SetItem(texts, i, text); /* steals text, drops the number */
    }
    return tagged_steal(S_NS, texts);
}

static PyObject *
encode_datetime(Spec *spec, PyObject *value)
{
    if (!PyDateTime_CheckExact(value) || PyDateTime_DATE_GET_TZINFO(value) != g_UTC) {
        return call_encode_hook(spec, value);
    }
    /* _hooks._enc_datetime's fixed-width form, YYYY-MM-DDTHH:MM:SS.ffffffZ (a year is
     * 1 to 9999). */
    PyObject *text = PyUnicode_New(27, 127);
    if (text == NULL) {
        return NULL;
    }
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    const int parts[7] = {
        PyDateTime_GET_YEAR(value),         PyDateTime_GET_MONTH(value),
        PyDateTime_GET_DAY(value),          PyDateTime_DATE_GET_HOUR(value),
        PyDateTime_DATE_GET_MINUTE(value),  PyDateTime_DATE_GET_SECOND(value),
        PyDateTime_DATE_GET_MICROSECOND(value)};
    static const int widths[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    for (int i = 0; i < 7; i++) {
        int part = parts[i];
        for (int j = widths[i] - 1; j >= 0; j--) {
            out[j] = (Py_UCS1)('0' + part % 10);
            part /= 10;
        }
        out += widths[i];
        *out++ = (Py_UCS1)after[i];
    }
    return tagged_steal(S_S, text);
}

static PyObject *
encode_uuid(Spec *spec, PyObject *value)
{
    if (Py_TYPE(value) != (PyTypeObject *)g_UUID) {
        return call_encode_hook(spec, value);
    }
    /* _hooks._enc_uuid: "%032x" % value.int, with the dashes. */
    PyObject *number = g_uuid_int_offset
                           ? Py_XNewRef(*(PyObject **)((char *)value + g_uuid_int_offset))
                           : PyObject_GenericGetAttr(value, S_int);
    if (number == NULL) {
        return PyErr_Occurred() ? NULL : call_encode_hook(spec, value); /* an unset slot */
    }
    PyObject *digits = PyUnicode_Format(S_hex_format, number);
    Py_DECREF(number);
    if (digits == NULL) {
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(digits) != 32 || !PyUnicode_IS_ASCII(digits)) {
        Py_DECREF(digits);
        return call_encode_hook(spec, value); /* an int out of a UUID's range */
    }
    const char *d = (const char *)PyUnicode_DATA(digits);
    char text[36];
    memcpy(text, d, 8);
    text[8] = '-';
    memcpy(text + 9, d + 8, 4);
    text[13] = '-';
    memcpy(text + 14, d + 12, 4);
    text[18] = '-';
    memcpy(text + 19, d + 16, 4);
    text[23] = '-';
    memcpy(text + 24, d + 20, 12);
    Py_DECREF(digits);
    return tagged_steal(S_S, PyUnicode_FromStringAndSize(text, 36));
}

static PyObject *
encode_str_set(Spec *spec, PyObject *value)
{
    if (!PyAnySet_CheckExact(value)) {
        return call_encode_hook(spec, value);
    }
    if (PySet_GET_SIZE(value) == 0) {
        Py_RETURN_NONE;
    }
    PyObject *values = PySequence_List(value);
    if (values == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(values, i))) {
            Py_DECREF(values);
            return call_encode_hook(spec, value);
        }
    }
    return tagged_steal(S_SS, values);
}

static PyObject *encode_value(Spec *spec, PyObject *value, PyObject *null);

static PyObject *
encode_list(Spec *spec, PyObject *value, PyObject *null)
{
    int kind = spec->inner->kind;
    /* The other kinds' hooks may give None, which a list holds as NULL. */
    int holes = !(kind == K_STR || kind == K_BOOL || kind == K_INT || kind == K_FLOAT ||
                  kind == K_DECIMAL || kind == K_CLASS);
    PyObject *made = PyList_New(0);
    if (made == NULL) {
        return NULL;
    }
    Py_INCREF(value);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
        PyObject *item = PyList_GET_ITEM(value, i);
        Py_INCREF(item);
        PyObject *encoded = encode_value(spec->inner, item, null);
        Py_DECREF(item);
        if (encoded == Py_None && holes) {
            Py_SETREF(encoded, Py_NewRef(null));
        }
        if (encoded == NULL || PyList_Append(made, encoded) < 0) {
            Py_XDECREF(encoded);
            Py_DECREF(value);
            Py_DECREF(made);
            return NULL;
        }
        Py_DECREF(encoded);
    }
    Py_DECREF(value);
    return tagged_steal(S_L, made);
}

static PyObject *
encode_value(Spec *spec, PyObject *value, PyObject *null)
{
    PyObject *result;
    switch (spec->kind) {
    case K_STR:
        return PyUnicode_CheckExact(value) ? tagged(S_S, value) : call_encode_hook(spec, value);
    case K_BOOL:
        return PyBool_Check(value) ? tagged(S_BOOL, value) : call_encode_hook(spec, value);
    case K_INT:
    case K_FLOAT:
    case K_DECIMAL:
        return encode_number(spec, value);
    case K_DATETIME:
        return encode_datetime(spec, value);
    case K_UUID:
        return encode_uuid(spec, value);
    case K_CLASS:
        if ((PyObject *)Py_TYPE(value) != spec->cls) {
            return call_encode_hook(spec, value);
        }
        return tagged_steal(S_M, PyObject_CallOneArg(spec->function, value));
    case K_OPTIONAL:
        if (value == Py_None) {
            Py_RETURN_NONE;
        }
        return encode_value(spec->inner, value, null);
    case K_LIST:
        if (!PyList_CheckExact(value)) {
            return call_encode_hook(spec, value);
        }
        if (Py_EnterRecursiveCall(" while encoding a list")) {
            return NULL;
        }
        result = encode_list(spec, value, null);
        Py_LeaveRecursiveCall();
        return result;
    case K_STRSET:
        return encode_str_set(spec, value);
    case K_NUMSET:
        return encode_number_set(spec, value);
    default:
        return call_encode_hook(spec, value);
    }
}

static PyObject *
encoder_encode(Codec *self, PyObject *obj)
{
#if PY_VERSION_HEX < 0x030D0000
    PyObject *item = _PyDict_NewPresized(self->count); /* no growing on the way */
#else
    PyObject *item = PyDict_New();
#endif
    if (item == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Field *field = &self->fields[i];
        PyObject *value = PyObject_GetAttr(obj, field->name);
        if (value == NULL) {
            goto error;
        }
        PyObject *encoded = encode_value(field->spec, value, self->none_object);
        Py_DECREF(value);
        if (encoded == NULL) {
            goto error;
        }
        int failed = 0;
        if (field->mode == E_OMIT) {
            if (encoded != Py_None && encoded != self->none_object) {
                failed = PyDict_SetItem(item, field->stored, encoded) < 0;
            }
        } else if (field->mode == E_NULL && encoded == Py_None) {
            failed = PyDict_SetItem(item, field->stored, self->none_object) < 0;
        } else {
            failed = PyDict_SetItem(item, field->stored, encoded) < 0;
        }
        Py_DECREF(encoded);
        if (failed) {
            goto error;
        }
    }
    return item;
error:
    Py_DECREF(item);
    return NULL;
}

static PyObject *
encoder_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return codec_call(self, args, nargsf, kwnames, encoder_encode);
}

/* An encoder field from (attribute, stored, mode, description). */
static int
encoder_read(Field *field, PyObject *t)
{
    if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 4 ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(t, 0)) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(t, 1))) {
        PyErr_SetString(PyExc_TypeError,
                        "an encoder field is (attribute, stored, mode, description)");
        return -1;
    }
    field->name = PyTuple_GET_ITEM(t, 0);
    field->stored = PyTuple_GET_ITEM(t, 1);
    field->mode = (int)PyLong_AsLong(PyTuple_GET_ITEM(t, 2));
    if (PyErr_Occurred()) {
        return -1;
    }
    if (field->mode < E_PLAIN || field->mode > E_NULL) {
        PyErr_SetString(PyExc_ValueError, "an unknown encoder field mode");
        return -1;
    }
    field->spec = spec_from(PyTuple_GET_ITEM(t, 3));
    return field->spec == NULL ? -1 : 0;
}

/* Encoder(fields, none_object). */
static PyObject *
encoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *fields, *none_object;
    if (no_keywords("Encoder", kwargs) < 0 ||
        !PyArg_ParseTuple(args, "O!O:Encoder", &PyTuple_Type, &fields, &none_object)) {
        return NULL;
    }
    return (PyObject *)codec_new(type, fields, none_object, encoder_vectorcall, encoder_read);
}

static PyTypeObject EncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dynamorm_async.convert._speedups.Encoder",
    .tp_doc = "A compiled item encoder: Encoder(fields, none_object).",
    .tp_basicsize = sizeof(Codec),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = encoder_new,
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_vectorcall_offset = offsetof(Codec, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* --- the module ------------------------------------------------------------------- */

static int
keep(PyObject *namespace, const char *name, PyObject **slot)
{
    PyObject *value = PyDict_GetItemString(namespace, name);
    if (value == NULL) {
        PyErr_Format(PyExc_KeyError, "configure() needs %s", name);
        return -1;
    }
    Py_XSETREF(*slot, Py_NewRef(value));
    return 0;
}

/* The offset of a writable object slot of `type` named `name`, or 0. */
static Py_ssize_t
slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *descriptor = PyDict_GetItemString(type->tp_dict, name);
    if (descriptor == NULL || !Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        return 0;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
    if (member->type != T_OBJECT_EX || (member->flags & READONLY) || member->offset <= 0) {
        return 0;
    }
    return member->offset;
}

static int
uuid_slots(void)
{
    g_uuid_int_offset = g_uuid_safe_offset = 0;
    if (g_UUID == Py_None) {
        return 0;
    }
    if (!PyType_Check(g_UUID)) {
        PyErr_SetString(PyExc_TypeError, "configure() needs _UUID to be a class or None");
        return -1;
    }
    Py_ssize_t int_offset = slot_offset((PyTypeObject *)g_UUID, "int");
    Py_ssize_t safe_offset = slot_offset((PyTypeObject *)g_UUID, "is_safe");
    if (int_offset && safe_offset) {
        g_uuid_int_offset = int_offset;
        g_uuid_safe_offset = safe_offset;
    }
    return 0;
}

static PyObject *
configure(PyObject *module, PyObject *namespace)
{
    if (!PyDict_Check(namespace)) {
        PyErr_SetString(PyExc_TypeError, "configure() takes a dict");
        return NULL;
    }
    PyObject *digits = NULL, *exp_min = NULL, *exp_max = NULL;
    if (keep(namespace, "_Decimal", &g_Decimal) < 0 || keep(namespace, "_finite", &g_finite) < 0 ||
        keep(namespace, "_adjusted", &g_adjusted) < 0 ||
        keep(namespace, "_fromiso", &g_fromiso) < 0 || keep(namespace, "_UTC", &g_UTC) < 0 ||
        keep(namespace, "_LIMIT", &g_limit) < 0 || keep(namespace, "_UUID", &g_UUID) < 0 ||
        keep(namespace, "_SAFE_UNKNOWN", &g_safe_unknown) < 0 ||
        keep(namespace, "_DIGITS", &digits) < 0 || keep(namespace, "_EXP_MIN", &exp_min) < 0 ||
        keep(namespace, "_EXP_MAX", &exp_max) < 0) {
        Py_XDECREF(digits);
        Py_XDECREF(exp_min);
        Py_XDECREF(exp_max);
        return NULL;
    }
    g_digits = PyLong_AsLongLong(digits);
    g_exp_min = PyLong_AsLongLong(exp_min);
    g_exp_max = PyLong_AsLongLong(exp_max);
    Py_DECREF(digits);
    Py_DECREF(exp_min);
    Py_DECREF(exp_max);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (uuid_slots() < 0) {
        return NULL;
    }
    Py_XSETREF(g_neg_limit, PyNumber_Negative(g_limit));
    if (g_neg_limit == NULL) {
        return NULL;
    }
    g_configured = 1;
    Py_RETURN_NONE;
}

/* keys_settled(item, keys): see _generate._keys_settled, which this is. */
static PyObject *
keys_settled(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_Check(args[0]) || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "keys_settled(item: dict, keys: tuple)");
        return NULL;
    }
    PyObject *item = args[0], *keys = args[1];
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keys); i++) {
        PyObject *key = PyTuple_GET_ITEM(keys, i);
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 3) {
            PyErr_SetString(PyExc_TypeError, "a key is (stored, limit, required)");
            return NULL;
        }
        PyObject *encoded = PyDict_GetItemWithError(item, PyTuple_GET_ITEM(key, 0));
        if (encoded == NULL) {
            if (PyErr_Occurred()) {
                return NULL;
            }
            if (PyObject_IsTrue(PyTuple_GET_ITEM(key, 2))) {
                Py_RETURN_FALSE; /* a missing key of the table: the mapper says so */
            }
            continue; /* an index's key may be absent */
        }
        if (!PyDict_CheckExact(encoded) || PyDict_GET_SIZE(encoded) != 1) {
            Py_RETURN_FALSE;
        }
        PyObject *text = PyDict_GetItemWithError(encoded, S_S);
        if (text != NULL && PyUnicode_CheckExact(text) && PyUnicode_IS_ASCII(text)) {
            Py_ssize_t limit = PyLong_AsSsize_t(PyTuple_GET_ITEM(key, 1));
            if (limit == -1 && PyErr_Occurred()) {
                return NULL;
            }
            Py_ssize_t length = PyUnicode_GET_LENGTH(text);
            if (length > 0 && length <= limit) {
                continue;
            }
            Py_RETURN_FALSE;
        }
        if (text == NULL && !PyErr_Occurred() && PyDict_GetItemWithError(encoded, S_N) != NULL) {
            continue;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"keys_settled", (PyCFunction)(void (*)(void))keys_settled, METH_FASTCALL,
     "Whether an item's key attributes need no closer look (_generate._keys_settled)."},
    {"configure", configure, METH_O,
     "Give the module the objects the Python source names (_generate._BASE_NAMESPACE)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "dynamorm_async.convert._speedups",
    .m_doc = "Compiled item codecs (see _generate.py).",
    .m_size = -1,
    .m_methods = methods,
};

static int
intern(PyObject **slot, const char *text)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    if (intern(&S_S, "S") < 0 || intern(&S_N, "N") < 0 || intern(&S_BOOL, "BOOL") < 0 ||
        intern(&S_M, "M") < 0 || intern(&S_L, "L") < 0 || intern(&S_NULL, "NULL") < 0 ||
        intern(&S_SS, "SS") < 0 || intern(&S_NS, "NS") < 0 || intern(&S_int, "int") < 0 ||
        intern(&S_is_safe, "is_safe") < 0 || intern(&S_tzinfo, "tzinfo") < 0 ||
        intern(&S_hex_format, "%032x") < 0) {
        return NULL;
    }
    if (PyType_Ready(&DecoderType) < 0 || PyType_Ready(&EncoderType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    PyObject *all = Py_BuildValue("[ssss]", "Decoder", "Encoder", "configure", "keys_settled");
    if (all == NULL || PyModule_AddObject(module, "__all__", all) < 0) {
        Py_XDECREF(all);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Decoder", (PyObject *)&DecoderType) < 0 ||
        PyModule_AddObjectRef(module, "Encoder", (PyObject *)&EncoderType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

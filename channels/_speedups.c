/* Optional C accelerator for channels.stream.StreamInstance (the markupsafe/simplejson pattern).
 *
 * channels works without it: channels/stream.py holds the rules (StreamInstance.__new__) and this module only
 * answers, faster, the one case those rules accept without a clock read -- an exact datetime whose tzinfo is
 * channels.utils.UTC, a whole number of milliseconds, not after the time channels.stream._past (a "now" already
 * checked against). Anything else goes to the class's own call (type.__call__ -> StreamInstance.__new__ in
 * Python): the same checks, results, errors and messages, whatever the arguments.
 *
 * install(cls, utc, namespace) makes calls of exactly ``cls`` (not of its subclasses: the field below is never
 * inherited) go through stream_instance_call, by setting the class's tp_vectorcall: the documented per-type
 * "call this type" hook (https://docs.python.org/3/c-api/typeobj.html#c.PyTypeObject.tp_vectorcall). The
 * class itself is untouched: its __new__ is still the Python one, so StreamInstance.__new__(...),
 * tuple.__new__(StreamInstance, ...) (what _make does), copying and subclassing behave as without this module.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

static PyTypeObject *instance_type;  /* StreamInstance */
static PyObject *utc;                /* channels.utils.UTC (pytz.UTC) */
static PyObject *namespace_;         /* channels.stream's globals: _past is read there at every call */
static PyObject *past_name;          /* "_past" */

/* 1 when ``v`` holds no reference to any object (so no reference cycle can go through it). */
static inline int
is_atom(PyObject *v)
{
    return v == Py_None || PyFloat_CheckExact(v) || PyLong_CheckExact(v) || PyBool_Check(v)
           || PyUnicode_CheckExact(v) || PyBytes_CheckExact(v);
}

/* What calling the class does without this module: type.__call__(cls, *args, **kwargs). */
static PyObject *
call_class(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *pos = PyTuple_New(nargs), *kwargs = NULL, *result = NULL;
    if (pos == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(pos, i, args[i]);
    }
    if (nkw) {
        kwargs = PyDict_New();
        if (kwargs == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < nkw; i++) {
            if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
                goto done;
            }
        }
    }
    result = PyType_Type.tp_call(cls, pos, kwargs);
done:
    Py_DECREF(pos);
    Py_XDECREF(kwargs);
    return result;
}

/* StreamInstance(timestamp, value) for the class installed. The test is StreamInstance.__new__'s fast path,
 * operation for operation: ``timestamp.__class__ is datetime and timestamp.tzinfo is UTC and timestamp <= _past
 * and not timestamp.microsecond % 1000``. Two datetimes with the same tzinfo object compare by their fields,
 * which CPython does with memcmp over this very byte array (datetime_richcompare). */
static PyObject *
stream_instance_call(PyObject *cls, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (cls == (PyObject *)instance_type && nargs == 2 && (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0)) {
        PyObject *ts = args[0], *value = args[1];
        if (Py_IS_TYPE(ts, PyDateTimeAPI->DateTimeType) && PyDateTime_DATE_GET_TZINFO(ts) == utc
                && PyDateTime_DATE_GET_MICROSECOND(ts) % 1000 == 0) {
            PyObject *past = PyDict_GetItemWithError(namespace_, past_name);  /* borrowed */
            if (past == NULL && PyErr_Occurred()) {
                return NULL;
            }
            if (past != NULL && Py_IS_TYPE(past, PyDateTimeAPI->DateTimeType)
                    && PyDateTime_DATE_GET_TZINFO(past) == utc
                    && memcmp(((PyDateTime_DateTime *)ts)->data, ((PyDateTime_DateTime *)past)->data,
                              _PyDateTime_DATETIME_DATASIZE) <= 0) {
                /* tuple.__new__(cls, (timestamp, value)), as the Python fast path (tuple_subtype_new) */
                PyTypeObject *type = (PyTypeObject *)cls;
                PyObject *self = type->tp_alloc(type, 2);
                if (self == NULL) {
                    return NULL;
                }
                Py_INCREF(ts);
                PyTuple_SET_ITEM(self, 0, ts);
                Py_INCREF(value);
                PyTuple_SET_ITEM(self, 1, value);
                /* Untracked from the cyclic garbage collector, as CPython untracks an exact tuple of atoms
                 * (_PyTuple_MaybeUntrack). Safe: the collector only ever frees objects in cycles it can see;
                 * an untracked object's references count as references from outside, so untracking can make it
                 * keep garbage alive, never free something in use. Keeping garbage alive would need a cycle
                 * through this instance, and it has no reference that can start one: the timestamp is a datetime
                 * (not even a GC type, and immutable), the value an atom holding no object, and its class is
                 * exactly StreamInstance, a module-level class that lives as long as channels.stream (a cycle back
                 * through the class is only ever garbage when the whole module is, at interpreter exit). A
                 * container value (list, dict, ...) can hold the instance itself: such instances stay tracked,
                 * and so does every instance of a subclass (which may add fields or a __dict__). */
                if (is_atom(value)) {
                    PyObject_GC_UnTrack(self);
                }
                return self;
            }
        }
    }
    return call_class(cls, args, nargs, kwnames);
}

static PyObject *
install(PyObject *module, PyObject *args)
{
    PyObject *cls, *tz, *ns;
    if (!PyArg_ParseTuple(args, "O!OO!:install", &PyType_Type, &cls, &tz, &PyDict_Type, &ns)) {
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    /* what stream_instance_call's fast path relies on: a heap subclass of tuple, no __init__ (type.__call__
     * would call object.__init__, which does nothing), allocated as tuple.__new__ allocates it */
    if (!PyType_IsSubtype(type, &PyTuple_Type) || !(type->tp_flags & Py_TPFLAGS_HEAPTYPE)
            || type->tp_init != PyBaseObject_Type.tp_init || type->tp_alloc != PyType_GenericAlloc
            || !PyType_IS_GC(type)) {
        PyErr_Format(PyExc_TypeError, "install() needs a tuple subclass without __init__, got %R", cls);
        return NULL;
    }
    if (instance_type != NULL && instance_type != type) {
        instance_type->tp_vectorcall = NULL;
    }
    Py_INCREF(cls);
    Py_INCREF(tz);
    Py_INCREF(ns);
    Py_XSETREF(instance_type, type);
    Py_XSETREF(utc, tz);
    Py_XSETREF(namespace_, ns);
    type->tp_vectorcall = stream_instance_call;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_VARARGS,
     "install(cls, utc, namespace): calls of exactly cls take the C fast path of StreamInstance.__new__"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "channels._speedups",
    "Optional C accelerator of channels.stream (channels works without it).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    past_name = PyUnicode_InternFromString("_past");
    if (past_name == NULL) {
        return NULL;
    }
    return PyModule_Create(&module_def);
}

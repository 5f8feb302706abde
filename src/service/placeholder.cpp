// Keeps the service library non-empty until its first real source lands.
namespace regain::service { void placeholder() {} }

// Nothing to report here; //app:probe, a dependency, has a leak.
int main() { return 0; }

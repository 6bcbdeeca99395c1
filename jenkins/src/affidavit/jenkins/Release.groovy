package affidavit.jenkins

/*
 * Which core this library installs by default: the affidavit project's own git repository at
 * the tag of this release, so `@Library('affidavit@v0.1.0')` runs core 0.1.0 with nothing to
 * pin twice. Bumped with pyproject.toml at each release (the tests check they agree).
 */
class Release implements Serializable {
    static final String VERSION = '0.1.0'
    static final String REPOSITORY = 'https://github.com/affidavit-dev/affidavit.git'
}
